"""``python -m s2sad`` runs the command line, like the ``s2sad`` script."""

import sys

from .cli import main

sys.exit(main())
