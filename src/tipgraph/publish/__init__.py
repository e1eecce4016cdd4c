"""Publishing the graph: formats, exports, dataset descriptions, pushes to other stores."""
