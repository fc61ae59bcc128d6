package lifecycle

import "go.temporal.io/sdk/workflow"

// receiveEach hands every payload signalled on name to take, as it arrives, until the
// workflow ends (run it in its own coroutine).
func receiveEach[T any](ctx workflow.Context, name string, take func(T)) {
	ch := workflow.GetSignalChannel(ctx, name)
	for {
		var v T // afresh: decoding leaves the fields a payload lacks as they are
		if !ch.Receive(ctx, &v) {
			return
		}
		take(v)
	}
}

// drainEach hands take the payloads signalled on name and not received yet: the SDK
// requires the channels to be empty before continuing as new, or they would be lost.
func drainEach[T any](ctx workflow.Context, name string, take func(T)) {
	ch := workflow.GetSignalChannel(ctx, name)
	for {
		var v T
		if !ch.ReceiveAsync(&v) {
			return
		}
		take(v)
	}
}
