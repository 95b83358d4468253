using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace VirtApi.Api.Tests;

/// <summary>Issue 7 through the API: snapshots of demo-kernel taken, restored, cloned, exported and imported.</summary>
public sealed class SnapshotsApiTests : IClassFixture<VirtApiFactory>
{
    private readonly VirtApiFactory _factory;
    private readonly HttpClient _client;

    public SnapshotsApiTests(VirtApiFactory factory)
    {
        _factory = factory;
        _client = factory.CreateClient();
    }

    [Theory]
    [InlineData("native")]
    [InlineData("trap-and-emulate")]
    public async Task DemoKernel_SnapshotAtAPausePoint_RunsOn_AndItsCloneAndRestoreFinishWithTheSameTranscript(string mode)
    {
        var (reference, referenceStats) = await ReferenceAsync(mode);
        var vm = await NewDemoKernelAsync($"snap-{mode}", mode);
        await _client.RunToAsync(vm, "boot", 400_000);
        var before = await _client.RunConsoleAsync(vm);
        var snapshot = await _client.SnapshotAsync(vm, "at-400k");
        Assert.Equal(400_000, snapshot.GetProperty("instructionsRetired").GetInt64());
        Assert.Equal("paused", snapshot.GetProperty("vmState").GetString());
        Assert.True(snapshot.GetProperty("hasMachineState").GetBoolean());
        Assert.True(snapshot.GetProperty("pagesReferenced").GetInt32() > 0);
        var snapshotId = snapshot.GetProperty("id").GetGuid();

        // The VM it was taken of runs on unchanged.
        Assert.Equal(reference, await _client.FinishAsync(vm));

        // A clone starts paused at the saved point and finishes as the original did.
        var clone = await _client.CloneAsync(snapshotId, $"clone-{mode}");
        Assert.Equal("paused", clone.GetProperty("state").GetString());
        Assert.Equal(400_000, clone.GetProperty("instructionsRetired").GetInt64());
        var cloneId = clone.GetProperty("id").GetGuid();
        Assert.Equal(reference, before + await _client.FinishAsync(cloneId));
        await AssertSameGuestCountersAsync(referenceStats, cloneId);

        // Restored into its own (stopped) VM, the same.
        var restore = await _client.PostAsync($"/api/v1/snapshots/{snapshotId}/restore", null);
        Assert.Equal(HttpStatusCode.OK, restore.StatusCode);
        var restored = await restore.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("paused", restored.GetProperty("state").GetString());
        Assert.Equal("snapshot-restored", restored.GetProperty("stateReason").GetString());
        Assert.Equal(reference, before + await _client.FinishAsync(vm));
        await AssertSameGuestCountersAsync(referenceStats, vm);
    }

    [Fact]
    public async Task AFullThenTwoDiffs_CloneLikeAFullSnapshotAtTheSamePoint_AndDeletingFreesOnlyUnreferencedPages()
    {
        var (reference, _) = await ReferenceAsync("trap-and-emulate");
        var vm = await NewDemoKernelAsync("chain", "trap-and-emulate");
        await _client.RunToAsync(vm, "boot", 300_000);
        var full = await _client.SnapshotAsync(vm, "base");
        await _client.RunToAsync(vm, "resume", 600_000);
        var diff1 = await _client.SnapshotAsync(vm, "d1", "diff");
        await _client.RunToAsync(vm, "resume", 900_000);
        var diff2 = await _client.SnapshotAsync(vm, "d2", "diff");
        var before = await _client.RunConsoleAsync(vm);
        var fullAt900 = await _client.SnapshotAsync(vm, "full-900k");

        Assert.Equal("diff", diff2.GetProperty("kind").GetString());
        Assert.Equal(diff1.GetProperty("id").GetGuid(), diff2.GetProperty("parentId").GetGuid());
        Assert.Equal(full.GetProperty("id").GetGuid(), diff1.GetProperty("parentId").GetGuid());
        Assert.InRange(diff2.GetProperty("pagesReferenced").GetInt32(), 1, fullAt900.GetProperty("pagesReferenced").GetInt32() - 1);
        // The full snapshot at the same point finds every page of its chain-mates stored already.
        Assert.Equal(0, fullAt900.GetProperty("pagesNewlyStored").GetInt32());

        var fromChain = await _client.CloneAsync(diff2.GetProperty("id").GetGuid(), "from-chain");
        var fromFull = await _client.CloneAsync(fullAt900.GetProperty("id").GetGuid(), "from-full");
        Assert.Equal(reference, before + await _client.FinishAsync(fromChain.GetProperty("id").GetGuid()));
        Assert.Equal(reference, before + await _client.FinishAsync(fromFull.GetProperty("id").GetGuid()));

        // The base cannot go while diffs depend on it; the refusal names them.
        var refused = await _client.DeleteAsync($"/api/v1/snapshots/{full.GetProperty("id").GetGuid()}");
        var problem = await refused.ProblemAsync(HttpStatusCode.Conflict, "snapshot-has-dependants");
        Assert.Equal("d1", problem.GetProperty("dependants")[0].GetProperty("name").GetString());

        var pages = SnapshotClient.Scalar(_factory.DatabasePath, "SELECT COUNT(*) FROM Pages");
        foreach (var snapshot in new[] { diff2, diff1, full })
        {
            Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/snapshots/{snapshot.GetProperty("id").GetGuid()}")).StatusCode);
        }
        // Every page still stored is referenced (by the full snapshot at 900k and the other tests' snapshots); the rest were freed.
        Assert.Equal(0, SnapshotClient.Scalar(_factory.DatabasePath, "SELECT COUNT(*) FROM PageRefs WHERE RefCount <= 0"));
        Assert.True(SnapshotClient.Scalar(_factory.DatabasePath, "SELECT COUNT(*) FROM Pages") < pages);
        Assert.Equal(reference, before + await _client.FinishAsync((await _client.CloneAsync(fullAt900.GetProperty("id").GetGuid(), "after-delete")).GetProperty("id").GetGuid()));
    }

    [Fact]
    public async Task ADamagedPage_AnswersRestoreAndCloneWith422NamingIt_AndChangesNothing()
    {
        // A server of its own: pages are shared by content, so damage here would reach every
        // demo-kernel snapshot on the same store (as it should).
        using var server = new VirtApiFactory();
        var client = server.CreateClient();
        var vm = (await client.CreateVmAsync(new { name = "damaged", imageId = await client.ImageIdAsync("demo-kernel") })).GetProperty("id").GetGuid();
        await client.RunToAsync(vm, "boot", 200_000);
        var snapshot = await client.SnapshotAsync(vm, "to-damage");
        var id = snapshot.GetProperty("id").GetGuid();
        await client.FinishAsync(vm);
        // The only snapshot on this server: every stored page is one of its pages.
        Assert.Equal(snapshot.GetProperty("pagesReferenced").GetInt32(), SnapshotClient.Scalar(server.DatabasePath, "SELECT COUNT(*) FROM Pages"));
        SnapshotClient.Execute(server.DatabasePath, "UPDATE Pages SET Data = X'00', Compressed = 0 WHERE Hash = (SELECT MIN(Hash) FROM Pages)");
        var vmsBefore = (await client.GetFromJsonAsync<JsonElement>("/api/v1/vms")).GetProperty("total").GetInt32();
        var consoleBefore = await client.RunConsoleAsync(vm);

        var problem = await (await client.PostAsync($"/api/v1/snapshots/{id}/restore", null)).ProblemAsync(HttpStatusCode.UnprocessableEntity, "snapshot-damaged");
        Assert.StartsWith("0x8", problem.GetProperty("guestAddress").GetString(), StringComparison.Ordinal);
        Assert.Contains(problem.GetProperty("guestAddress").GetString()!, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var state = await client.GetVmAsync(vm);
        Assert.Equal("stopped", state.GetProperty("state").GetString());
        Assert.Equal("guest-power-off", state.GetProperty("stateReason").GetString());
        Assert.Equal(consoleBefore, await client.RunConsoleAsync(vm));

        var clone = await client.PostAsJsonAsync("/api/v1/vms", new { name = "clone-of-damaged", fromSnapshotId = id });
        await clone.ProblemAsync(HttpStatusCode.UnprocessableEntity, "snapshot-damaged");
        Assert.Equal(vmsBefore, (await client.GetFromJsonAsync<JsonElement>("/api/v1/vms")).GetProperty("total").GetInt32());
        await (await client.GetAsync($"/api/v1/snapshots/{id}/export")).ProblemAsync(HttpStatusCode.UnprocessableEntity, "snapshot-damaged");
    }

    [Fact]
    public async Task ErrorCases_AreClearAndChangeNothing()
    {
        var vm = await NewDemoKernelAsync("errors", "native");
        // A diff needs a parent in the VM's current run.
        await (await _client.PostAsJsonAsync($"/api/v1/vms/{vm}/snapshots", new { name = "orphan", kind = "diff" })).ProblemAsync(HttpStatusCode.Conflict, "snapshot-no-parent");
        await _client.RunToAsync(vm, "boot", 100_000);
        await (await _client.PostAsJsonAsync($"/api/v1/vms/{vm}/snapshots", new { name = "orphan", kind = "diff" })).ProblemAsync(HttpStatusCode.Conflict, "snapshot-no-parent");
        var parent = await _client.SnapshotAsync(vm, "parent");
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/snapshots/{parent.GetProperty("id").GetGuid()}")).StatusCode);
        var noParent = await (await _client.PostAsJsonAsync($"/api/v1/vms/{vm}/snapshots", new { name = "orphan", kind = "diff" })).ProblemAsync(HttpStatusCode.Conflict, "snapshot-no-parent");
        Assert.Contains(parent.GetProperty("id").GetString()!, noParent.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty((await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/snapshots")).GetProperty("items").EnumerateArray());

        // Fields are checked and named.
        var invalid = await (await _client.PostAsJsonAsync($"/api/v1/vms/{vm}/snapshots", new { name = "" })).ProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.True(invalid.GetProperty("errors").TryGetProperty("name", out _));
        var badKind = await (await _client.PostAsJsonAsync($"/api/v1/vms/{vm}/snapshots", new { name = "x", kind = "partial" })).ProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.True(badKind.GetProperty("errors").TryGetProperty("kind", out _));
        var badPoint = await (await _client.PostAsJsonAsync($"/api/v1/vms/{vm}/resume", new { pauseAtInstruction = 50_000 })).ProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.True(badPoint.GetProperty("errors").TryGetProperty("pauseAtInstruction", out _));

        // Restoring into a running VM is refused.
        var snapshot = await _client.SnapshotAsync(vm, "while-paused");
        var snapshotId = snapshot.GetProperty("id").GetGuid();
        await _client.ActAsync(vm, "resume");
        var running = await (await _client.PostAsync($"/api/v1/snapshots/{snapshotId}/restore", null)).ProblemAsync(HttpStatusCode.Conflict, "invalid-state");
        Assert.Equal("running", running.GetProperty("state").GetString());
        await _client.WaitForStateAsync(vm, "stopped");

        // A changed definition is named field by field.
        Assert.Equal(HttpStatusCode.OK, (await _client.PatchAsJsonAsync($"/api/v1/vms/{vm}", new { memoryMiB = 96 })).StatusCode);
        var mismatch = await (await _client.PostAsync($"/api/v1/snapshots/{snapshotId}/restore", null)).ProblemAsync(HttpStatusCode.Conflict, "snapshot-definition-mismatch");
        Assert.True(mismatch.GetProperty("differences").TryGetProperty("memoryMiB", out _));

        // A clone takes the snapshot's definition: giving one is an error naming the field.
        var defined = await (await _client.PostAsJsonAsync("/api/v1/vms", new { name = "clone-x", fromSnapshotId = snapshotId, vcpus = 2 })).ProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.True(defined.GetProperty("errors").TryGetProperty("vcpus", out _));
        var unknown = await (await _client.PostAsJsonAsync("/api/v1/vms", new { name = "clone-y", fromSnapshotId = Guid.NewGuid() })).ProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.True(unknown.GetProperty("errors").TryGetProperty("fromSnapshotId", out _));

        // Once the VM is deleted: no snapshots of it can be taken, and its snapshots cannot be restored into it, but can be cloned.
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/vms/{vm}")).StatusCode);
        await (await _client.PostAsJsonAsync($"/api/v1/vms/{vm}/snapshots", new { name = "gone" })).ProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _client.PostAsync($"/api/v1/snapshots/{snapshotId}/restore", null)).ProblemAsync(HttpStatusCode.Conflict, "snapshot-vm-missing");
        Assert.Equal("paused", (await _client.CloneAsync(snapshotId, "errors-clone")).GetProperty("state").GetString());
        await (await _client.GetAsync($"/api/v1/snapshots/{Guid.NewGuid()}")).ProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task ASnapshotOfAVmWithoutAMachine_HoldsItsDefinition_AndRestoresItStopped()
    {
        var vm = await NewDemoKernelAsync("no-machine", "native");
        var snapshot = await _client.SnapshotAsync(vm, "created");
        Assert.False(snapshot.GetProperty("hasMachineState").GetBoolean());
        Assert.Equal("created", snapshot.GetProperty("vmState").GetString());
        Assert.Equal(0, snapshot.GetProperty("pagesReferenced").GetInt32());
        await (await _client.PostAsJsonAsync($"/api/v1/vms/{vm}/snapshots", new { name = "d", kind = "diff" })).ProblemAsync(HttpStatusCode.Conflict, "snapshot-no-parent");

        await _client.RunToAsync(vm, "boot", 50_000);
        var restored = await (await _client.PostAsync($"/api/v1/snapshots/{snapshot.GetProperty("id").GetGuid()}/restore", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("stopped", restored.GetProperty("state").GetString());
        Assert.Equal("snapshot-restored", restored.GetProperty("stateReason").GetString());
    }

    [Fact]
    public async Task ExportedOnOneServer_ImportedOnAFreshOne_TheCloneFinishesWithTheSameTranscript()
    {
        var (reference, _) = await ReferenceAsync("native");
        var vm = await NewDemoKernelAsync("exported", "native");
        await _client.RunToAsync(vm, "boot", 250_000);
        await _client.SnapshotAsync(vm, "exp-base");
        await _client.RunToAsync(vm, "resume", 800_000);
        var before = await _client.RunConsoleAsync(vm);
        var leaf = await _client.SnapshotAsync(vm, "exp-leaf", "diff");
        var file = await _client.GetByteArrayAsync($"/api/v1/snapshots/{leaf.GetProperty("id").GetGuid()}/export");

        using var other = new VirtApiFactory();
        var remote = other.CreateClient();
        var imported = await ImportAsync(remote, file);
        Assert.Equal(HttpStatusCode.Created, imported.StatusCode);
        var body = await imported.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, body.GetProperty("chain").GetArrayLength());
        Assert.False(body.GetProperty("imageCreated").GetBoolean()); // demo-kernel is built in there too
        var importedLeaf = body.GetProperty("snapshot");
        Assert.Equal("exp-leaf", importedLeaf.GetProperty("name").GetString());
        Assert.Equal(800_000, importedLeaf.GetProperty("instructionsRetired").GetInt64());
        var clone = await remote.CloneAsync(importedLeaf.GetProperty("id").GetGuid(), "imported-clone");
        Assert.Equal(reference, before + await remote.FinishAsync(clone.GetProperty("id").GetGuid()));

        // Importing the same file again stores no new page.
        var again = await (await ImportAsync(remote, file)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.All(again.GetProperty("chain").EnumerateArray(), s => Assert.Equal(0, s.GetProperty("pagesNewlyStored").GetInt32()));

        // A damaged or foreign file is refused, and nothing is added.
        var count = (await remote.GetFromJsonAsync<JsonElement>("/api/v1/snapshots")).GetProperty("items").GetArrayLength();
        var damaged = (byte[])file.Clone();
        damaged[damaged.Length / 2] ^= 0x40;
        await (await ImportAsync(remote, damaged)).ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid-snapshot-file");
        await (await ImportAsync(remote, "not a snapshot"u8.ToArray())).ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid-snapshot-file");
        var future = (byte[])file.Clone();
        future[8] = 3;
        var version = await (await ImportAsync(remote, future)).ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid-snapshot-file");
        Assert.Contains("version 3", version.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(count, (await remote.GetFromJsonAsync<JsonElement>("/api/v1/snapshots")).GetProperty("items").GetArrayLength());
    }

    private static Task<HttpResponseMessage> ImportAsync(HttpClient client, byte[] file)
    {
        var content = new ByteArrayContent(file);
        content.Headers.ContentType = new("application/octet-stream");
        return client.PostAsync("/api/v1/snapshots/import", content);
    }

    private async Task<Guid> NewDemoKernelAsync(string name, string mode) =>
        (await _client.CreateVmAsync(new { name, imageId = await _client.ImageIdAsync("demo-kernel"), cpu = new { mode } })).GetProperty("id").GetGuid();

    /// <summary>demo-kernel run to its end without snapshots: its transcript and counters.</summary>
    private async Task<(string Console, JsonElement Stats)> ReferenceAsync(string mode)
    {
        var name = $"reference-{mode}";
        var existing = (await _client.GetFromJsonAsync<JsonElement>("/api/v1/vms?limit=500")).GetProperty("items").EnumerateArray()
            .FirstOrDefault(v => v.GetProperty("name").GetString() == name);
        Guid vm;
        if (existing.ValueKind == JsonValueKind.Undefined)
        {
            vm = await NewDemoKernelAsync(name, mode);
            await _client.ActAsync(vm, "boot");
        }
        else
        {
            vm = existing.GetProperty("id").GetGuid();
        }
        var end = await _client.WaitForStateAsync(vm, "stopped", "crashed");
        Assert.Equal("guest-power-off", end.GetProperty("stateReason").GetString());
        return (await _client.RunConsoleAsync(vm), await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/stats"));
    }

    private async Task AssertSameGuestCountersAsync(JsonElement reference, Guid vm)
    {
        var stats = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/stats");
        foreach (var counter in new[] { "instructionsRetired", "instructionsByPrivilege", "trapsByCause", "interruptsByCause" })
        {
            Assert.Equal(reference.GetProperty(counter).GetRawText(), stats.GetProperty(counter).GetRawText());
        }
    }
}
