import sys

from handoff_service.cli import main

sys.exit(main())
