"""The Flask application: SPARQL endpoint, linked-data pages, exports, graph explorer."""
