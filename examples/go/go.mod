module example.com/tw-go-ffi

go 1.21
