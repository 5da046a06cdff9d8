"""`python -m bot` runs the `bot` command."""

from bot.cli import main

main()
