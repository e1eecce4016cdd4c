"""Safe SPARQL execution: parsing and policy, limits, engines."""
