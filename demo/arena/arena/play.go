package arena

import (
	"context"
	"time"
)

// FrameRate is the frames per second of Play, as an Ebiten window's.
const FrameRate = 60

// Play drives c the way a window would, FrameRate times a second, until
// ctx is done or the connection ends: each frame calls Frame (whose Bot,
// if it has one, plays) and then, if it is set, frame with how long Frame
// took. It returns nil when ctx ended it, otherwise why the connection
// ended.
func Play(ctx context.Context, c *Client, frame func(took time.Duration)) error {
	t := time.NewTicker(time.Second / FrameRate)
	defer t.Stop()
	for {
		start := time.Now()
		if err := c.Frame(start, 0); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if frame != nil {
			frame(time.Since(start))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
