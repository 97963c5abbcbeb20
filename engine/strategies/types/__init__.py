"""The shipped strategy types, one module each; every module here is imported by
`engine.strategies` and registers its type (`engine.strategies.registry`)."""
