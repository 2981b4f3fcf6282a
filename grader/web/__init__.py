"""The web app: server-rendered pages for students and instructors, and a JSON API for the same actions."""
