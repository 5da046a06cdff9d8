"""`python -m bot` runs the `bot` command."""

from bot.cli.main import main

main()
