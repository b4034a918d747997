"""The machinery under every layer and model: symbolic tensors, nodes, weights, the Layer base."""
