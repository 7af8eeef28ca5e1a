package bootstrap

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// validatable is every generated Envoy message: a proto with PGV rules.
type validatable interface {
	proto.Message
	ValidateAll() error
}

// packer packs typed configs into Anys after validating them, collecting
// every validation error so that Build reports them all at once.
//
// A lazy packer validates the same but does not marshal: its Anys carry
// only their type URL, and the message each was packed from is kept
// beside it for the JSON printer (message). Marshalling every config only
// for the printer to read it back was a fifth of rendering; nothing else
// on the render path reads the bytes, and Build, whose bootstrap anyone
// may marshal, packs eagerly.
type packer struct {
	errs []error
	// lazy leaves the Anys' values empty and fills packed instead.
	lazy   bool
	packed map[*anypb.Any]proto.Message
}

func newLazyPacker() *packer {
	return &packer{lazy: true, packed: map[*anypb.Any]proto.Message{}}
}

// pack validates m and returns it as an Any. On error it records the error
// and returns an empty Any; Build checks err before using the result.
func (p *packer) pack(m validatable) *anypb.Any {
	if err := m.ValidateAll(); err != nil {
		p.errs = append(p.errs, fmt.Errorf("validating %s: %w", m.ProtoReflect().Descriptor().FullName(), err))
		return &anypb.Any{}
	}
	return p.packValid(m)
}

// packValid packs m, a message without rules to validate.
func (p *packer) packValid(m proto.Message) *anypb.Any {
	if p.lazy {
		a := &anypb.Any{TypeUrl: "type.googleapis.com/" + string(m.ProtoReflect().Descriptor().FullName())}
		p.packed[a] = m
		return a
	}
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		p.errs = append(p.errs, fmt.Errorf("packing %s: %w", m.ProtoReflect().Descriptor().FullName(), err))
	}
	return a
}

// message returns the message a lazy packer packed into a, nil for any
// other Any.
func (p *packer) message(a *anypb.Any) proto.Message {
	return p.packed[a]
}

func (p *packer) err() error {
	return errors.Join(p.errs...)
}
