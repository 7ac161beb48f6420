package flow

import (
	"fmt"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Compression is how a flow's chunks are compressed, in both directions.
// The side that opens the flow chooses it (Request.Compression); the
// handling side follows. Each chunk is compressed on its own, so a chunk
// that would not shrink travels as it is.
type Compression uint8

// Compressions. Both come from github.com/klauspost/compress: pure Go, no
// cgo, maintained for a decade and used by Docker, Prometheus and nats.
const (
	// NoCompression sends chunks as they are. The default: right for data
	// that is already compact or already compressed, and for loopback or a
	// LAN, where the link is faster than any compressor.
	NoCompression Compression = 0
	// S2 is Snappy's faster successor: compresses at GB/s per core and
	// decompresses faster still, for links of hundreds of MB/s (a LAN
	// between game servers).
	S2 Compression = 1
	// Zstd is Zstandard at its default level: about zlib's ratio (what
	// PyF.Station used) at several times its speed, for slower links
	// (between data centres).
	Zstd Compression = 2
)

// String returns "none", "s2" or "zstd".
func (c Compression) String() string {
	switch c {
	case NoCompression:
		return "none"
	case S2:
		return "s2"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("compression(%d)", uint8(c))
}

func (c Compression) valid() bool { return c <= Zstd }

// compressors holds the zstd coder of an endpoint, made on first use and
// released by close. S2 needs no state.
type compressors struct {
	once sync.Once
	enc  *zstd.Encoder
	dec  *zstd.Decoder
	err  error
}

func (c *compressors) zstd() error {
	c.once.Do(func() {
		c.enc, c.err = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithWindowSize(1<<20),     // a chunk is at most MaxChunkSize
			zstd.WithEncoderConcurrency(0), // GOMAXPROCS concurrent EncodeAll calls
		)
		if c.err != nil {
			return
		}
		c.dec, c.err = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(MaxChunkSize),
		)
	})
	return c.err
}

func (c *compressors) close() {
	// once.Do waits for a concurrent first use, and makes a later one fail.
	c.once.Do(func() { c.err = ErrClosed })
	if c.enc != nil {
		c.enc.Close()
	}
	if c.dec != nil {
		c.dec.Close()
	}
}

// compress appends src compressed with alg to dst. It returns dst
// unchanged (ok false) when compression would not shrink src.
func (c *compressors) compress(alg Compression, dst, src []byte) (out []byte, ok bool) {
	mark := len(dst)
	switch alg {
	case S2:
		need := s2.MaxEncodedLen(len(src))
		if cap(dst)-mark < need {
			nb := make([]byte, mark, mark+need)
			copy(nb, dst)
			dst = nb
		}
		enc := s2.Encode(dst[mark:mark+need], src)
		out = dst[:mark+len(enc)]
	case Zstd:
		if c.zstd() != nil {
			return dst, false
		}
		out = c.enc.EncodeAll(src, dst)
	default:
		return dst, false
	}
	if len(out)-mark >= len(src) {
		return dst[:mark], false
	}
	return out, true
}

// decompress returns src decompressed with alg, in dst's storage when it
// fits. The result is at most MaxChunkSize bytes, or an error.
func (c *compressors) decompress(alg Compression, dst, src []byte) ([]byte, error) {
	switch alg {
	case S2:
		n, err := s2.DecodedLen(src)
		if err != nil {
			return nil, err
		}
		if n > MaxChunkSize {
			return nil, fmt.Errorf("chunk decompresses to %d bytes, more than %d", n, MaxChunkSize)
		}
		if cap(dst) < n {
			dst = make([]byte, n)
		}
		return s2.Decode(dst[:n], src)
	case Zstd:
		if err := c.zstd(); err != nil {
			return nil, err
		}
		return c.dec.DecodeAll(src, dst[:0])
	}
	return nil, fmt.Errorf("unknown compression %d", alg)
}
