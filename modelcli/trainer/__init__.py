"""Running models over data: batching, predict (and, with training, fit / evaluate)."""
