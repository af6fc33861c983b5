"""Every query a service sends needs an index MongoDB can use. FerretDB scans whole
collections anyway, so the check is on the query shapes as the driver sends them."""

from contextlib import contextmanager

from pymongo import MongoClient, monitoring

from healthrec.db import INDEXES


class Commands(monitoring.CommandListener):
    """The commands the app sends, as the server receives them."""

    def __init__(self):
        self.seen = []

    def started(self, event):
        if event.command_name != "endSessions":  # the driver's own, when the client closes
            self.seen.append((event.command_name, event.command))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass

    def shapes(self, collections):
        """(collection, filter, sort keys) of each read, update and delete on `collections`."""
        for name, command in self.seen:
            collection = command.get(name)
            if collection not in collections:
                continue
            if name == "find":
                yield collection, command.get("filter", {}), list(command.get("sort", {}))
            elif name == "aggregate":  # count_documents and grouped counts
                for stage in command["pipeline"][:1]:
                    yield collection, stage.get("$match", {}), []
            elif name == "distinct":
                yield collection, command.get("query", {}), []
            elif name == "update":
                yield from ((collection, update["q"], []) for update in command["updates"])
            elif name == "delete":
                yield from ((collection, delete["q"], []) for delete in command["deletes"])


@contextmanager
def watched(app, devdb):
    """Route the app's database calls through a client that records them."""
    listener = Commands()
    client: MongoClient = MongoClient(devdb.uri, event_listeners=[listener], tz_aware=True)
    original = app.extensions["healthrec.db"]
    app.extensions["healthrec.db"] = client[original.name]
    try:
        yield listener
    finally:
        app.extensions["healthrec.db"] = original
        client.close()


def supported(collection, query, sort):
    """An index leads with a field the query names (each branch of an `$or` on its own;
    an unfiltered read: with the sort key) and holds the sort keys."""
    if "$or" in query:
        rest = {key: value for key, value in query.items() if key != "$or"}
        return all(supported(collection, {**rest, **branch}, sort) for branch in query["$or"])
    if not query and not sort:
        return True  # a count or walk of everything, on purpose
    indexes = [["_id"]] + [[name for name, _ in keys] for keys, _options in INDEXES.get(collection, [])]
    return any((index[0] in query if query else index[0] == sort[0]) and set(sort) <= set(index)
               for index in indexes)


def unsupported(listener, collections):
    """The shapes sent to `collections` that no declared index serves."""
    return [shape for shape in listener.shapes(collections) if not supported(*shape)]
