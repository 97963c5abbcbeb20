"""The trading platform's services: one module or package per resource path, each with `register(app)`."""
