package smtpsink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// openMailFile opens (or creates) the mail file for appending and returns the messages it
// holds. A last line without its newline is what a crash in the middle of an append leaves:
// that message was never acknowledged, so it is cut off and the sender's retry stores it.
func openMailFile(path string) (*os.File, []Message, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	messages, complete, err := readMessages(f)
	if err == nil {
		err = f.Truncate(complete)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("mail file %s: %w", path, err)
	}
	return f, messages, nil
}

// readMessages decodes the complete lines of f and says where they end.
func readMessages(f *os.File) ([]Message, int64, error) {
	var b bytes.Buffer
	if _, err := b.ReadFrom(f); err != nil {
		return nil, 0, err
	}
	data := b.Bytes()
	complete := bytes.LastIndexByte(data, '\n') + 1
	var messages []Message
	for i, line := range bytes.Split(data[:complete], []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m Message
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, 0, fmt.Errorf("line %d is not a message (%w): move the file away to start afresh", i+1, err)
		}
		messages = append(messages, m)
	}
	return messages, int64(complete), nil
}

// appendMessage writes m as one line, in one write, and syncs it. A failed write is cut
// off, so that the next message does not follow half a line.
func appendMessage(f *os.File, m Message) error {
	line, err := json.Marshal(m)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return errors.Join(err, f.Truncate(st.Size()))
	}
	return f.Sync()
}
