"""The HTTP surfaces (Starlette): parse the request, make one core call, render the result."""
