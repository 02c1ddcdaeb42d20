"""The bulk import client (`medialib import`): it talks to a medialib server (or the original
API) over HTTP only, so it imports nothing of the server's packages and runs from any machine."""
