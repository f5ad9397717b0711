"""Output formats built from records: the PDFs, the iCalendar feed, the evidence bundle."""
