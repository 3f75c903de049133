"""``loganalyzer why USER``: one person's story across cycles, and the verdict.

``frame_source`` reads only the rows needed, ``lookup`` resolves what the user typed to Entra
objects, ``timeline`` and ``query`` build the story and verdict, ``render`` prints it.
"""
