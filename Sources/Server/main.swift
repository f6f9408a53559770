// Placeholder entry point: the server is being written (issue #5).
print("redis-server: not yet implemented")
