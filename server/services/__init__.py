"""The application layer: what the API, the dashboard and the command line ask for, in plain Python."""
