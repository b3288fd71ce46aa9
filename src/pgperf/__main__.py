"""``python -m pgperf``: the `pgperf` command."""

import sys

from pgperf.commands.cli import main

sys.exit(main())
