package message

// FieldAt is fieldAt, for the tests of package message_test.
var FieldAt = fieldAt
