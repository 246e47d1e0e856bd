// A Kafka-protocol broker for the local cluster: franz-go's kfake (an in-memory Kafka that speaks the
// real wire protocol) on one port of 127.0.0.1, with the topics it is told to create. KEDA's kafka scaler
// (sarama) and any Kafka client talk to it as to a one-broker Kafka cluster.
//
//	kfake -port 9092 -topic ml-jobs:3 -topic other:1 -group ml-jobs=workers
//
// A consumer group that has never committed is unknown to kfake (a real broker answers with offset -1),
// and KEDA's scaler then fails: -group topic=group commits offset 0 on every partition of the topic, so
// the group exists with a lag equal to what is produced. It prints "ready <address>" once it serves, and
// stops on SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kfake: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	port := flag.Int("port", 9092, "port of 127.0.0.1 to serve on (0 picks a free one)")
	var topics, groups repeated
	flag.Var(&topics, "topic", "name:partitions of a topic to create (repeatable)")
	flag.Var(&groups, "group", "topic=group: commit offset 0 for the group on every partition (repeatable)")
	flag.Parse()

	partitions := map[string]int32{}
	options := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(*port)}
	for _, spec := range topics {
		name, count, ok := strings.Cut(spec, ":")
		n, err := strconv.Atoi(count)
		if !ok || name == "" || err != nil || n < 1 {
			fail("-topic %q: want name:partitions", spec)
		}
		partitions[name] = int32(n)
		options = append(options, kfake.SeedTopics(int32(n), name))
	}
	cluster, err := kfake.NewCluster(options...)
	if err != nil {
		fail("%v", err)
	}
	defer cluster.Close()
	addresses := cluster.ListenAddrs()

	if len(groups) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		client, err := kgo.NewClient(kgo.SeedBrokers(addresses...))
		if err != nil {
			fail("client: %v", err)
		}
		admin := kadm.NewClient(client)
		for _, spec := range groups {
			topic, group, ok := strings.Cut(spec, "=")
			count, known := partitions[topic]
			if !ok || group == "" || !known {
				fail("-group %q: want topic=group for a -topic", spec)
			}
			offsets := kadm.Offsets{}
			for p := int32(0); p < count; p++ {
				offsets.Add(kadm.Offset{Topic: topic, Partition: p, At: 0, LeaderEpoch: -1})
			}
			response, err := admin.CommitOffsets(ctx, group, offsets)
			if err == nil {
				err = response.Error()
			}
			if err != nil {
				fail("commit offsets of %s: %v", spec, err)
			}
		}
		client.Close()
	}

	fmt.Println("ready", strings.Join(addresses, ","))
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
}
