"""Numbers: numeric backends, evaluation, sampling of inputs, and the checker that
judges derivatives and claims against torch.autograd."""
