using System.Runtime.InteropServices;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// <see cref="RunOptions.LeaseContent"/> against the emulator over loopback: the leased bytes are the bytes a run
/// without leases hands out, every lease the runner does not hand out goes back to the pool, and it never takes back
/// one it handed out. Runs alone: <see cref="TaskContentLease.Outstanding"/> counts process-wide.
/// </summary>
[Collection(nameof(LeaseCounting))]
public class LeaseContentTests
{
    private static readonly RunOptions Fast = new() { FirstPollDelay = TimeSpan.FromMilliseconds(20), MinPollInterval = TimeSpan.FromMilliseconds(20), MaxPollInterval = TimeSpan.FromMilliseconds(200) };

    private static RunOptions Leased(int maxTargetsPerJob = 1000) => new()
    {
        FirstPollDelay = Fast.FirstPollDelay, MinPollInterval = Fast.MinPollInterval, MaxPollInterval = Fast.MaxPollInterval,
        MaxTargetsPerJob = maxTargetsPerJob, LeaseContent = true, MaxBufferedOutcomes = 4,
    };

    private static List<string> MixedInputs(int count)
    {
        var inputs = new List<string>();
        for (int i = 0; i < count; i++)
        {
            inputs.Add(i % 10 == 3 ? $"https://site.example/{i}?emulate=error" : i % 10 == 5 ? $"https://site.example/{i}.png" : i % 17 == 0 ? $"not-a-url-{i}" : $"https://site.example/{i}");
        }

        return inputs;
    }

    [Fact]
    public async Task Leased_content_equals_the_content_of_a_run_without_leases_and_every_lease_is_returned()
    {
        long before = TaskContentLease.Outstanding;
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = 3000, TaskLatencyMin = TimeSpan.FromMilliseconds(1), TaskLatencyMax = TimeSpan.FromMilliseconds(20) });
        using var client = Support.Client(emulator);
        List<string> inputs = MixedInputs(120);

        var plain = new Dictionary<long, TaskOutcome>();
        await foreach (TaskOutcome o in new ScrapeDoRunner(client, Fast).RunAsync(inputs, cancellationToken: Support.Timeout()))
        {
            Assert.True(plain.TryAdd(o.InputIndex, o));
            Assert.Null(o.ContentLease);
            AssertOwnArray(o);
        }

        var seen = new HashSet<long>();
        var leases = new List<TaskContentLease>();
        int compared = 0;
        await foreach (TaskOutcome o in new ScrapeDoRunner(client, Leased(maxTargetsPerJob: 25)).RunAsync(inputs, cancellationToken: Support.Timeout()))
        {
            Assert.True(seen.Add(o.InputIndex), $"{o.InputIndex} twice");
            TaskOutcome p = plain[o.InputIndex];
            Assert.Equal(p.Status, o.Status);
            Assert.Equal(p.Target, o.Target);
            Assert.Equal(p.StatusCode, o.StatusCode);
            byte[] expected = p.Details?.Content.Utf8.ToArray() ?? [];
            if (expected.Length == 0)
            {
                Assert.Null(o.ContentLease);
                continue;
            }

            TaskContentLease lease = Assert.IsType<TaskContentLease>(o.ContentLease);
            Assert.False(lease.IsDisposed);
            Assert.DoesNotContain(lease, leases);
            Assert.True(o.Details!.Content.IsEmpty, "the content lives only in the lease");
            Assert.Equal(p.Details!.Base64EncodedContent, o.Details.Base64EncodedContent);
            Assert.Equal(expected.Length, lease.Length);
            Assert.True(expected.AsSpan().SequenceEqual(lease.Span), $"content of {o.InputIndex} differs");
            Assert.Equal(p.Details.GetContentBytes(), lease.ToArray(o.Details.Base64EncodedContent));
            using (var sink = new MemoryStream())
            {
                await lease.CopyToAsync(sink);
                Assert.Equal(expected, sink.ToArray());
            }

            leases.Add(lease);
            compared++;
            if (compared % 2 == 0)
            {
                lease.Dispose();
                lease.Dispose();
                Assert.True(lease.IsDisposed);
                Assert.Throws<ObjectDisposedException>(() => lease.Memory);
            }
        }

        Assert.Equal(inputs.Count, seen.Count);
        Assert.True(compared > 50, $"only {compared} contents compared");
        Assert.Contains(plain.Values, o => o.Details?.Base64EncodedContent == true);

        // The runner takes back none it handed out: the undisposed half is still the consumer's.
        int kept = leases.Count - (leases.Count / 2);
        Assert.Equal(kept, leases.Count(l => !l.IsDisposed));
        Assert.Equal(before + kept, TaskContentLease.Outstanding);
        foreach (TaskContentLease lease in leases)
        {
            lease.Dispose();
        }

        Assert.Equal(before, TaskContentLease.Outstanding);
    }

    [Fact]
    public async Task A_consumer_that_stops_early_gets_exactly_its_leases_the_runner_returns_the_rest()
    {
        long before = TaskContentLease.Outstanding;
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = 2048 });
        using var client = Support.Client(emulator);
        var taken = new List<TaskContentLease>();
        await foreach (TaskOutcome o in new ScrapeDoRunner(client, Leased()).RunAsync(Support.Urls(300), cancellationToken: Support.Timeout()))
        {
            taken.Add(o.ContentLease!);
            if (taken.Count == 5)
            {
                break;
            }
        }

        // Fetches in flight and outcomes buffered at the break were never handed out: the runner returned them.
        Assert.All(taken, l => Assert.False(l.IsDisposed));
        Assert.Equal(before + taken.Count, TaskContentLease.Outstanding);
        taken.ForEach(l => l.Dispose());
        Assert.Equal(before, TaskContentLease.Outstanding);
    }

    [Fact]
    public async Task Faults_and_cancellation_leak_no_lease_and_deliver_each_target_once()
    {
        long before = TaskContentLease.Outstanding;
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Seed = 7,
            Faults = new FaultOptions { RateLimitShare = 0.04, ServerErrorShare = 0.03, DropShare = 0.02, TruncateShare = 0.02, RetryAfterSeconds = 0 },
        });
        using var client = Support.Client(emulator);
        var options = new RunOptions
        {
            FirstPollDelay = Fast.FirstPollDelay, MinPollInterval = Fast.MinPollInterval, MaxPollInterval = Fast.MaxPollInterval,
            MaxTargetsPerJob = 100, LeaseContent = true, ReconcileWindow = TimeSpan.FromSeconds(2),
        };
        var seen = new HashSet<long>();
        await foreach (TaskOutcome o in new ScrapeDoRunner(client, options).RunAsync(Support.Urls(600), cancellationToken: Support.Timeout(120)))
        {
            using TaskContentLease? lease = o.ContentLease;
            Assert.True(seen.Add(o.InputIndex));
            Assert.True(o.Status == OutcomeStatus.Success, $"{o}: {o.Reason}");
            Assert.NotNull(lease);
            Assert.True(lease.Length > 0);
        }

        Assert.Equal(600, seen.Count);
        Assert.Equal(before, TaskContentLease.Outstanding);

        using var cts = new CancellationTokenSource();
        int got = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (TaskOutcome o in new ScrapeDoRunner(client, options).RunAsync(Support.Urls(400, "https://site.example/again"), cancellationToken: cts.Token))
            {
                o.ContentLease?.Dispose();
                if (++got == 20)
                {
                    await cts.CancelAsync();
                }
            }
        });

        Assert.Equal(before, TaskContentLease.Outstanding);
    }

    /// <summary>A handed-out content of a run without leases is a whole array of exactly its length, as the public API promises.</summary>
    private static void AssertOwnArray(TaskOutcome o)
    {
        if (o.Details is not { Content.IsEmpty: false } details)
        {
            return;
        }

        Assert.True(MemoryMarshal.TryGetArray(details.Content.Utf8, out ArraySegment<byte> segment), "content is not array-backed");
        Assert.Equal(0, segment.Offset);
        Assert.Equal(segment.Array!.Length, segment.Count);
    }
}

/// <summary>Lease tests read a process-wide count: no other test may run beside them.</summary>
[CollectionDefinition(nameof(LeaseCounting), DisableParallelization = true)]
public sealed class LeaseCounting;
