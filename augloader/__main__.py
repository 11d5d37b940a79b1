"""``python -m augloader``: the ``augloader`` command line."""

import sys

from .cli import main

sys.exit(main())
