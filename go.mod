module github.com/gonetic/gonetic

go 1.26
