"""Word lists the core reads as package data (the glossary)."""
