package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
)

// Entity is one thing of the world region that moves between servers.
type Entity struct {
	ID         uint64
	X, Y, Z    float32
	VX, VY, VZ float32
	Kind       uint16
	HP         uint16
	Name       string
}

// entityHead is the fixed part of an entity record: id, position,
// velocity, kind, hp, name length.
const entityHead = 8 + 6*4 + 2 + 2 + 2

// minRecord is the smallest record size: the head and a name of up to 16
// bytes, which "npc-<id>" is for any region of less than 10^12 entities.
const minRecord = entityHead + 16

// regionEntity is entity i of the generated region: deterministic, so
// that the receiver's checksum can be checked against the sender's.
func regionEntity(i uint64) Entity {
	f := float32(i)
	return Entity{
		ID: i,
		X:  float32(i%1024) * 0.5, Y: float32(i/1024%1024) * 0.5, Z: float32(i % 7),
		VX: f * 0.001, VY: -f * 0.001, VZ: 0,
		Kind: uint16(i % 13), HP: uint16(100 + i%50),
		Name: fmt.Sprintf("npc-%d", i),
	}
}

// putRecord writes e at the start of rec, a record of len(rec) bytes:
// the head, the name; the rest of rec is padding (a stand-in for the
// components a real entity carries), left as it is. It returns the bytes
// written. The raw bytes are the flow's fast path.
func putRecord(rec []byte, e *Entity) int {
	binary.LittleEndian.PutUint64(rec, e.ID)
	p := 8
	for _, v := range [...]float32{e.X, e.Y, e.Z, e.VX, e.VY, e.VZ} {
		binary.LittleEndian.PutUint32(rec[p:], math.Float32bits(v))
		p += 4
	}
	binary.LittleEndian.PutUint16(rec[p:], e.Kind)
	binary.LittleEndian.PutUint16(rec[p+2:], e.HP)
	name := e.Name[:min(len(e.Name), len(rec)-entityHead)]
	binary.LittleEndian.PutUint16(rec[p+4:], uint16(len(name)))
	return p + 6 + copy(rec[p+6:], name)
}

var errRecord = errors.New("bad entity record")

// parseRecord decodes a record made by appendRecord.
func parseRecord(b []byte, e *Entity) error {
	if len(b) < entityHead {
		return errRecord
	}
	e.ID = binary.LittleEndian.Uint64(b)
	p := 8
	for _, v := range []*float32{&e.X, &e.Y, &e.Z, &e.VX, &e.VY, &e.VZ} {
		*v = math.Float32frombits(binary.LittleEndian.Uint32(b[p:]))
		p += 4
	}
	e.Kind = binary.LittleEndian.Uint16(b[p:])
	e.HP = binary.LittleEndian.Uint16(b[p+2:])
	n := int(binary.LittleEndian.Uint16(b[p+4:]))
	p += 6
	if p+n > len(b) {
		return errRecord
	}
	e.Name = string(b[p : p+n])
	return nil
}

// region yields the records of n entities, one buffer reused: the flow
// copies each packet before yield returns.
func region(n, size int) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		rec := make([]byte, size) // zero padding
		used := 0
		for i := range uint64(n) {
			e := regionEntity(i)
			k := putRecord(rec, &e)
			if k < used {
				clear(rec[k:used])
			}
			used = k
			if !yield(rec) {
				return
			}
		}
	}
}

// typedRegion yields the entities as values, for the codec.
func typedRegion(n int) iter.Seq[Entity] {
	return func(yield func(Entity) bool) {
		for i := range uint64(n) {
			if !yield(regionEntity(i)) {
				return
			}
		}
	}
}

// checksum folds entities into a hash of what matters in them.
type checksum struct{ sum uint64 }

func (c *checksum) add(e *Entity) {
	// FNV-1a of id, position, kind, hp and name; summed, so order-free.
	h := uint64(14695981039346656037)
	mix := func(v uint64, n int) {
		for range n {
			h = (h ^ (v & 0xff)) * 1099511628211
			v >>= 8
		}
	}
	mix(e.ID, 8)
	mix(uint64(math.Float32bits(e.X))|uint64(math.Float32bits(e.Y))<<32, 8)
	mix(uint64(e.Kind)|uint64(e.HP)<<16, 4)
	for i := 0; i < len(e.Name); i++ {
		mix(uint64(e.Name[i]), 1)
	}
	c.sum += h
}

// expected is the checksum of the first n entities of the region.
func expected(n int) uint64 {
	var c checksum
	for i := range uint64(n) {
		e := regionEntity(i)
		c.add(&e)
	}
	return c.sum
}
