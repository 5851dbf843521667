#!/usr/bin/env python3
"""CDK entry point (cdk.json "app"). Configuration: `autopsy:*` context keys, see README "Deploy"."""

import sys

from infra.app import main

if __name__ == "__main__":
    sys.exit(main())
