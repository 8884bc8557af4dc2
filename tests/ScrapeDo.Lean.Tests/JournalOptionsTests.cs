using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Tests;

/// <summary>
/// A journal records a fingerprint of the run's job options, and a resume with other options is refused; a journal
/// written before the fingerprint existed resumes as before.
/// </summary>
public sealed class JournalOptionsTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"scrapedo-opts-{Guid.NewGuid():N}.jsonl");

    public void Dispose() => File.Delete(_path);

    private static string Hash(CreateJobRequest template, string? pluginKey = null) => RunJournal.HashOptions(template, pluginKey);

    [Fact]
    public void The_fingerprint_follows_what_is_scraped_and_charged_and_ignores_header_order_and_the_webhook()
    {
        string plain = Hash(new CreateJobRequest());
        Assert.Equal(plain, Hash(new CreateJobRequest()));
        Assert.NotEqual(plain, Hash(new CreateJobRequest { Render = new RenderOptions() }));
        Assert.NotEqual(plain, Hash(new CreateJobRequest { GeoCode = "de" }));
        Assert.NotEqual(plain, Hash(new CreateJobRequest { Super = true }));
        Assert.NotEqual(plain, Hash(new CreateJobRequest { Output = OutputFormat.Markdown }));
        Assert.NotEqual(plain, Hash(new CreateJobRequest(), "google/search"));
        Assert.NotEqual(Hash(new CreateJobRequest { Headers = new Dictionary<string, string> { ["X-A"] = "1" } }), Hash(new CreateJobRequest { Headers = new Dictionary<string, string> { ["X-A"] = "2" } }));

        // The order headers were given in means nothing; where the API notifies means nothing for the results.
        Assert.Equal(
            Hash(new CreateJobRequest { Headers = new Dictionary<string, string> { ["X-A"] = "1", ["X-B"] = "2" } }),
            Hash(new CreateJobRequest { Headers = new Dictionary<string, string> { ["X-B"] = "2", ["X-A"] = "1" } }));
        Assert.Equal(
            Hash(new CreateJobRequest { Headers = new Dictionary<string, string> { ["a"] = "1", ["B"] = "2", ["c"] = "3", ["D"] = "4" } }),
            Hash(new CreateJobRequest { Headers = new Dictionary<string, string> { ["D"] = "4", ["c"] = "3", ["B"] = "2", ["a"] = "1" } }));
        Assert.NotEqual(
            Hash(new CreateJobRequest { Headers = new Dictionary<string, string> { ["a"] = "1", ["B"] = "2" } }),
            Hash(new CreateJobRequest { Headers = new Dictionary<string, string> { ["a"] = "2", ["B"] = "1" } }));
        Assert.Equal(plain, Hash(new CreateJobRequest { WebhookUrl = "https://hooks.example/a", WebhookHeaders = new Dictionary<string, string> { ["S"] = "x" } }));
    }

    [Fact]
    public void The_fingerprint_is_the_one_journals_were_written_with_before_the_digests()
    {
        // Computed outside .NET: FNV-1a 64 over the template's body bytes, then each header name and value and the
        // plugin key, each string after a '\n'. A change here would refuse every earlier journal's resume.
        Assert.Equal("c735ad1983dc7ddd", Hash(new CreateJobRequest()));
        Assert.Equal("f04fd3f0f79ee684", Hash(new CreateJobRequest { GeoCode = "us", Headers = new Dictionary<string, string> { ["X-A"] = "1" } }, "google/search"));
    }

    [Fact]
    public async Task A_resume_with_other_job_options_is_refused_and_one_with_the_same_is_not()
    {
        string plain = Hash(new CreateJobRequest());
        await using (await RunJournal.OpenAsync(_path, resume: false, chunkSize: 10, TestSupport.Timeout(), plain))
        {
        }

        Assert.Contains($"\"o\":\"{plain}\"", await File.ReadAllTextAsync(_path), StringComparison.Ordinal);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => RunJournal.OpenAsync(_path, resume: true, chunkSize: 10, TestSupport.Timeout(), Hash(new CreateJobRequest { Render = new RenderOptions(), GeoCode = "de" })));
        Assert.Contains("job options differ", refused.Message, StringComparison.Ordinal);
        await using (await RunJournal.OpenAsync(_path, resume: true, chunkSize: 10, TestSupport.Timeout(), plain))
        {
        }
    }

    [Fact]
    public async Task A_refused_resume_names_the_options_that_changed_and_only_those()
    {
        var written = new CreateJobRequest { GeoCode = "us", Super = true, SetCookies = "sid=1", Headers = new Dictionary<string, string> { ["X-Secret"] = "hunter2" } };
        await using (await RunJournal.OpenAsync(_path, resume: false, chunkSize: 10, RunJournal.FingerprintOptions(written, null), TestSupport.Timeout()))
        {
        }

        string journal = await File.ReadAllTextAsync(_path);
        Assert.DoesNotContain("hunter2", journal, StringComparison.Ordinal);
        Assert.Contains("\"od\":\"GeoCode=", journal, StringComparison.Ordinal);
        // A cookie gets no digest of its own, only one with the other fields that may hold secrets.
        Assert.DoesNotContain(";SetCookies=", journal, StringComparison.Ordinal);
        Assert.Contains(";Body/SessionID/SetCookies=", journal, StringComparison.Ordinal);

        async Task<string> RefusalAsync(CreateJobRequest options, string? plugin = null) =>
            (await Assert.ThrowsAsync<InvalidOperationException>(() => RunJournal.OpenAsync(_path, resume: true, chunkSize: 10, RunJournal.FingerprintOptions(options, plugin), TestSupport.Timeout()))).Message;

        string geoAndRender = await RefusalAsync(new CreateJobRequest { GeoCode = "de", Super = true, SetCookies = "sid=1", Render = new RenderOptions(), Headers = written.Headers });
        Assert.Contains("(GeoCode and Render changed)", geoAndRender, StringComparison.Ordinal);
        Assert.DoesNotContain("Super", geoAndRender, StringComparison.Ordinal);
        Assert.Contains("(Headers changed)", await RefusalAsync(new CreateJobRequest { GeoCode = "us", Super = true, SetCookies = "sid=1", Headers = new Dictionary<string, string> { ["X-Secret"] = "other" } }), StringComparison.Ordinal);
        Assert.Contains("(Body/SessionID/SetCookies changed)", await RefusalAsync(new CreateJobRequest { GeoCode = "us", Super = true, SetCookies = "sid=2", Headers = written.Headers }), StringComparison.Ordinal);
        Assert.Contains("(Super, Body/SessionID/SetCookies, Headers and Plugin changed)", await RefusalAsync(new CreateJobRequest { GeoCode = "us" }, "google/search"), StringComparison.Ordinal);
        await using (await RunJournal.OpenAsync(_path, resume: true, chunkSize: 10, RunJournal.FingerprintOptions(written, null), TestSupport.Timeout()))
        {
        }
    }

    [Fact]
    public async Task A_damaged_journal_names_its_line_once_without_the_readers_zero_based_position()
    {
        await File.WriteAllTextAsync(_path, "{\"t\":\"run\",\"n\":10}\n# not an entry\n");
        var damaged = await Assert.ThrowsAsync<InvalidDataException>(() => RunJournal.OpenAsync(_path, resume: true, chunkSize: 10, TestSupport.Timeout()));
        Assert.Contains("is damaged at line 2 ('#' is an invalid start of a value)", damaged.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", damaged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_journal_without_a_fingerprint_resumes_with_any_options()
    {
        await File.WriteAllTextAsync(_path, "{\"t\":\"run\",\"n\":10}\n");
        await using RunJournal journal = await RunJournal.OpenAsync(_path, resume: true, chunkSize: 10, TestSupport.Timeout(), Hash(new CreateJobRequest { Render = new RenderOptions() }));
        Assert.Equal(10, journal.ChunkSize);
    }
}
