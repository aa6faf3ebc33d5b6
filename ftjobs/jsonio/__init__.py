"""JSON text in and out: streaming records out of large documents and list bodies, compacting
and writing text exactly as ftjobs stores it. The lowest layer: it knows no API object."""
