"""provsieve's PTransforms and the pure functions under them."""
