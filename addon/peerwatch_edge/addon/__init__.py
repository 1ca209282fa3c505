"""The Home Assistant add-on's run entry: options.json → edge config, Supervisor discovery."""
