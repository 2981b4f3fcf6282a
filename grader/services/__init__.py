"""The actions behind the web pages, the JSON API and the commands (`grader batch`, `grader admin`), with their
authorization: plain values in (ids, strings, bytes, paths), plain values out. Web routes and command modules adapt
requests and arguments to these calls."""
