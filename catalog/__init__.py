"""The models app: OpenRouter's image models, their endpoints, capabilities and prices."""
