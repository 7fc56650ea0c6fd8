"""The mlops-platform Pulumi program: settings, naming, components and the output contract."""
