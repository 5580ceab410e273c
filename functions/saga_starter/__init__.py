"""saga-starter: starts the order saga once per placed order."""
