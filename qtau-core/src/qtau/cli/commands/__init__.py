"""One module per `qtau` command; each has `register(app)`. The list lives in `qtau.cli.app.COMMANDS`."""
