#!/usr/bin/env python3
"""CDK entry point (cdk.json "app"). Configuration: `autopsy:*` context keys, see README "Deploy"."""

import os
import sys

# jsii prints a Node 20 end-of-life banner at start-up unless told this version is known.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from infra.app import main  # after the environment jsii reads at start-up

if __name__ == "__main__":
    sys.exit(main())
