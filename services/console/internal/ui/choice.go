package ui

// choice is a choice of a select.
type choice struct{ Value, Label string }
