"""Deploying the app as several processes: `deploy/serve`."""
