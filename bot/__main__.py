"""`python -m bot` is the same as `omtanke`."""

import sys

from bot.cli import main

sys.exit(main())
