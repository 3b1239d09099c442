// Package rooms will hold gotree's rooms: persistent lab links, participant
// label files, presence and the room waiting page. It is empty for now.
package rooms
