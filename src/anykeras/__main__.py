"""`python -m anykeras`: the command line."""

import sys

from anykeras.cli import main

sys.exit(main())
