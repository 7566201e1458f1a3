"""Allow ``python -m rareflow``."""

from rareflow.cli import main

main()
