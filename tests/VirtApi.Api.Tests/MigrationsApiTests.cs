using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace VirtApi.Api.Tests;

/// <summary>The migration tests' server: the real one, with <see cref="HeldGuests"/> in front of the hypervisor.</summary>
public sealed class MigrationServer : IDisposable
{
    public VirtApiFactory Factory { get; } = new VirtApiFactory().WithServices(services => services.WrapHypervisor(real => new HeldGuests(real)));

    internal HeldGuests Guests => Factory.Services.GetRequiredService<HeldGuests>();

    public void Dispose() => Factory.Dispose();
}

/// <summary>Issue 9 through the API: live and cold migration between hosts, what refuses it, cancel, failure and restart.</summary>
public sealed class MigrationsApiTests : IClassFixture<MigrationServer>
{
    private readonly MigrationServer _server;
    private readonly HttpClient _client;

    public MigrationsApiTests(MigrationServer server)
    {
        _server = server;
        _client = server.Factory.CreateClient();
    }

    [Fact]
    public async Task EachRefusal_Is409WithItsCode_AndChargesNothing()
    {
        var source = await NewHostAsync(_client, "refuse-src");
        var target = await NewHostAsync(_client, "refuse-dst", "bare-metal");
        var tiny = await NewHostAsync(_client, "refuse-tiny", memoryMiB: 64);
        var hello = await _client.ImageIdAsync("hello");
        var targetBefore = await _client.UsageAsync(target.Id());

        // A passthrough device: its state is in the source host's hardware.
        var passthrough = await NewVmAsync(_client, "refuse-passthrough", hello, source.Id());
        await _client.AttachedAsync(passthrough, new { kind = "block", model = "passthrough", hostDeviceId = source.HostDevice("disk0") });
        var problem = await (await _client.MigrateAsync(passthrough, new { targetHostId = target.Id(), mode = "cold" })).ReadProblemAsync(HttpStatusCode.Conflict, "passthrough-device-attached");
        Assert.Equal("ata0", problem.GetProperty("devices")[0].GetProperty("name").GetString());

        // The VM's own host.
        var created = await NewVmAsync(_client, "refuse-created", hello, source.Id());
        problem = await (await _client.MigrateAsync(created, new { targetHostId = source.Id(), mode = "cold" })).ReadProblemAsync(HttpStatusCode.Conflict, "migration-same-host");
        Assert.Equal(source.Id(), problem.GetProperty("hostId").GetGuid());

        // A target without room for the VM's memory.
        var big = await NewVmAsync(_client, "refuse-big", hello, source.Id(), memoryMiB: 100);
        problem = await (await _client.MigrateAsync(big, new { targetHostId = tiny.Id(), mode = "cold" })).ReadProblemAsync(HttpStatusCode.Conflict, "host-capacity");
        Assert.Equal(64, problem.GetProperty("memoryFreeMiB").GetInt64());
        Assert.Equal(100, problem.GetProperty("memoryNeededMiB").GetInt64());

        // Live needs a running VM.
        problem = await (await _client.MigrateAsync(created, new { targetHostId = target.Id(), mode = "live" })).ReadProblemAsync(HttpStatusCode.Conflict, "invalid-state");
        Assert.Equal("created", problem.GetProperty("state").GetString());
        Assert.Equal(["boot"], problem.GetProperty("allowedActions").EnumerateArray().Select(a => a.GetString()!).ToArray());

        // Cold needs one that is not running.
        var running = await NewVmAsync(_client, "refuse-running", await SpinImageAsync(_client), source.Id());
        Assert.Equal("running", (await _client.ActAsync(running, "boot")).GetProperty("state").GetString());
        problem = await (await _client.MigrateAsync(running, new { targetHostId = target.Id(), mode = "cold" })).ReadProblemAsync(HttpStatusCode.Conflict, "invalid-state");
        Assert.Equal("running", problem.GetProperty("state").GetString());
        await _client.ActAsync(running, "stop");

        foreach (var vm in new[] { passthrough, created, big, running })
        {
            Assert.Equal(0, (await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/migrations")).GetProperty("items").GetArrayLength());
            Assert.Equal(source.Id(), (await _client.GetVmAsync(vm)).GetProperty("hostId").GetGuid());
        }
        Assert.Equal(targetBefore, await _client.UsageAsync(target.Id()));
        Assert.Equal((0, 0), await _client.UsageAsync(tiny.Id()));
    }

    [Fact]
    public async Task Check_ListsEveryBlockerInOneAnswer_AndAllowsOnceNoneIsLeft()
    {
        var source = await NewHostAsync(_client, "check-src");
        var target = await NewHostAsync(_client, "check-dst");
        var tiny = await NewHostAsync(_client, "check-tiny", memoryMiB: 64);
        var vm = await NewVmAsync(_client, "check-vm", await _client.ImageIdAsync("hello"), source.Id(), memoryMiB: 100);
        var disk = await _client.AttachedAsync(vm, new { kind = "block", model = "passthrough", hostDeviceId = source.HostDevice("disk0") });
        var tty = await _client.AttachedAsync(vm, new { kind = "console", model = "passthrough", hostDeviceId = source.HostDevice("tty0") });

        var sameHost = await _client.CheckAsync(vm, source.Id());
        Assert.False(sameHost.GetProperty("allowed").GetBoolean());
        Assert.Equal("live", sameHost.GetProperty("mode").GetString());
        Assert.Equal(["passthrough-device-attached", "passthrough-device-attached", "migration-same-host", "invalid-state"], sameHost.BlockerCodes());
        var blockers = sameHost.GetProperty("blockers");
        Assert.Equal(["ata0", "uart2"], [blockers[0].GetProperty("deviceName").GetString()!, blockers[1].GetProperty("deviceName").GetString()!]);
        Assert.Equal(source.HostDevice("disk0"), blockers[0].GetProperty("hostDeviceId").GetGuid());
        Assert.Equal("created", blockers[3].GetProperty("state").GetString());
        Assert.All(blockers.EnumerateArray(), b => Assert.False(string.IsNullOrEmpty(b.GetProperty("detail").GetString())));

        var full = await _client.CheckAsync(vm, tiny.Id());
        Assert.Equal(["passthrough-device-attached", "passthrough-device-attached", "host-capacity", "invalid-state"], full.BlockerCodes());
        Assert.Equal(64, full.GetProperty("blockers")[2].GetProperty("memoryFreeMiB").GetInt64());
        Assert.Equal(100, full.GetProperty("blockers")[2].GetProperty("memoryNeededMiB").GetInt64());

        // Cold allows a VM that is not running; only the devices are left in the way.
        Assert.Equal(["passthrough-device-attached", "passthrough-device-attached"], (await _client.CheckAsync(vm, target.Id(), "cold")).BlockerCodes());
        await _client.DetachAsync(vm, disk.Id());
        await _client.DetachAsync(vm, tty.Id());
        var allowed = await _client.CheckAsync(vm, target.Id(), "cold");
        Assert.True(allowed.GetProperty("allowed").GetBoolean());
        Assert.Equal(0, allowed.GetProperty("blockers").GetArrayLength());
        Assert.Equal(target.Id(), allowed.GetProperty("targetHostId").GetGuid());
        Assert.Equal(vm, allowed.GetProperty("vmId").GetGuid());
    }

    [Fact]
    public async Task InvalidRequests_Are400sNamingTheField_AndUnknownResources404s()
    {
        var host = await NewHostAsync(_client, "invalid-dst");
        var vm = await NewVmAsync(_client, "invalid-vm", await _client.ImageIdAsync("hello"));
        var target = host.Id();

        async Task<JsonElement> InvalidAsync(string json)
        {
            var response = await _client.PostAsync($"/api/v1/vms/{vm}/migrations", new StringContent(json, Encoding.UTF8, "application/json"));
            return await response.ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        }

        var empty = await InvalidAsync("{}");
        Assert.Equal(["is required: the id of the host to move the VM to"], empty.ErrorsFor("targetHostId"));
        Assert.Equal(["is required: one of live, cold"], empty.ErrorsFor("mode"));
        Assert.Equal(["must be one of live, cold"], (await InvalidAsync($$"""{ "targetHostId": "{{target}}", "mode": "warm" }""")).ErrorsFor("mode"));
        Assert.Equal(["must be between 1 and 100, was 0"], (await InvalidAsync($$"""{ "targetHostId": "{{target}}", "mode": "live", "maxRounds": 0 }""")).ErrorsFor("maxRounds"));
        Assert.Equal(["must be between 1 and 100, was 101"], (await InvalidAsync($$"""{ "targetHostId": "{{target}}", "mode": "live", "maxRounds": 101 }""")).ErrorsFor("maxRounds"));
        Assert.Equal(["must be between 0 and 1000000, was -1"], (await InvalidAsync($$"""{ "targetHostId": "{{target}}", "mode": "live", "stopCopyPages": -1 }""")).ErrorsFor("stopCopyPages"));
        Assert.Equal(["is not a known field"], (await InvalidAsync($$"""{ "targetHostId": "{{target}}", "mode": "live", "rounds": 3 }""")).ErrorsFor("rounds"));
        Assert.Equal(["is not a valid id (a UUID)"], (await InvalidAsync("""{ "targetHostId": "host-b", "mode": "live" }""")).ErrorsFor("targetHostId"));
        var unknownHost = Guid.NewGuid();
        Assert.Equal([$"no host has id '{unknownHost}'"], (await InvalidAsync($$"""{ "targetHostId": "{{unknownHost}}", "mode": "cold" }""")).ErrorsFor("targetHostId"));

        var check = await (await _client.GetAsync($"/api/v1/vms/{vm}/migrations/check?mode=warm")).ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Single(check.ErrorsFor("targetHostId"));
        Assert.Equal(["must be one of live, cold"], check.ErrorsFor("mode"));
        await (await _client.GetAsync($"/api/v1/vms/{vm}/migrations/check?targetHostId={unknownHost}")).ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");

        await (await _client.MigrateAsync(Guid.NewGuid(), new { targetHostId = target, mode = "cold" })).ReadProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _client.GetAsync($"/api/v1/vms/{Guid.NewGuid()}/migrations/check?targetHostId={target}")).ReadProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _client.GetAsync($"/api/v1/vms/{Guid.NewGuid()}/migrations")).ReadProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _client.GetAsync($"/api/v1/migrations/{Guid.NewGuid()}")).ReadProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _client.DeleteAsync($"/api/v1/migrations/{Guid.NewGuid()}")).ReadProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal(0, (await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/migrations")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Cold_AStoppedVm_MovesItsDefinitionAndItsCharge_AndBootsOnTheTarget()
    {
        var source = await NewHostAsync(_client, "cold-src");
        var target = await NewHostAsync(_client, "cold-dst", "bare-metal");
        var vm = await NewVmAsync(_client, "cold-hello", await _client.ImageIdAsync("hello"), source.Id(), memoryMiB: 16);
        await _client.ActAsync(vm, "boot");
        await _client.WaitForStateAsync(vm, "stopped");
        var sourceBefore = await _client.UsageAsync(source.Id());
        var targetBefore = await _client.UsageAsync(target.Id());

        var migration = await _client.MigratedAsync(vm, new { targetHostId = target.Id(), mode = "cold" });
        // A cold migration has ended when POST answers.
        Assert.Equal("completed", migration.GetProperty("phase").GetString());
        Assert.Equal("cold", migration.GetProperty("mode").GetString());
        Assert.Equal(source.Id(), migration.GetProperty("sourceHostId").GetGuid());
        Assert.Equal(target.Id(), migration.GetProperty("targetHostId").GetGuid());
        Assert.Equal(0, migration.GetProperty("rounds").GetArrayLength());
        Assert.Equal(0, migration.GetProperty("totalPagesSent").GetInt64()); // no machine: only the definition moves
        Assert.Equal(JsonValueKind.Null, migration.GetProperty("error").ValueKind);
        Assert.Equal(migration.GetRawText(), (await _client.GetMigrationAsync(migration.Id())).GetRawText());

        var moved = await _client.GetVmAsync(vm);
        Assert.Equal(target.Id(), moved.GetProperty("hostId").GetGuid());
        Assert.Equal("stopped", moved.GetProperty("state").GetString());
        Assert.Equal((sourceBefore.MemoryUsedMiB - 16, sourceBefore.Vms - 1), await _client.UsageAsync(source.Id()));
        Assert.Equal((targetBefore.MemoryUsedMiB + 16, targetBefore.Vms + 1), await _client.UsageAsync(target.Id()));

        // It boots on the target.
        await _client.ActAsync(vm, "boot");
        Assert.Equal("guest-power-off", (await _client.WaitForStateAsync(vm, "stopped")).GetProperty("stateReason").GetString());
        Assert.Equal("Hello from VirtApi!\n", await _client.RunConsoleAsync(vm));

        // Listed with the VM and among all migrations; over, so not cancellable.
        var listed = (await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/migrations")).GetProperty("items");
        Assert.Equal([migration.Id()], listed.EnumerateArray().Select(m => m.Id()).ToArray());
        Assert.Contains((await _client.GetFromJsonAsync<JsonElement>("/api/v1/migrations")).GetProperty("items").EnumerateArray(), m => m.Id() == migration.Id());
        var refused = await (await _client.DeleteAsync($"/api/v1/migrations/{migration.Id()}")).ReadProblemAsync(HttpStatusCode.Conflict, "migration-not-cancellable");
        Assert.Equal("completed", refused.GetProperty("phase").GetString());
    }

    [Fact]
    public async Task TheVmsEventStream_ShowsTheMigrationsPhases_AndTheStateOnTheTarget()
    {
        var source = await NewHostAsync(_client, "events-src");
        var target = await NewHostAsync(_client, "events-dst");
        var vm = await NewDemoKernelAsync(_client, "events", "trap-and-emulate", source.Id());
        await _client.RunToAsync(vm, "boot", 300_000);
        await using var events = await VmEventStream.OpenAsync(_client, vm);
        var first = await events.NextAsync();
        Assert.Equal(("state", "paused"), (first.Type, first.Data.GetProperty("state").GetString()));

        var migration = await _client.MigratedAsync(vm, new { targetHostId = target.Id(), mode = "cold" });

        var copying = await events.NextAsync();
        Assert.Equal(("migration", "stop-and-copy"), (copying.Type, copying.Data.GetProperty("phase").GetString()));
        Assert.Equal(migration.Id(), copying.Data.GetProperty("migrationId").GetGuid());
        // The VM is paused on the target, then the migration reports its end.
        var state = await events.NextAsync();
        Assert.Equal(("state", "paused"), (state.Type, state.Data.GetProperty("state").GetString()));
        Assert.Equal("migrated", state.Data.GetProperty("stateReason").GetString());
        var ended = await events.NextAsync();
        Assert.Equal(("migration", "completed"), (ended.Type, ended.Data.GetProperty("phase").GetString()));
        Assert.False(ended.Data.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null, ended.Data.ToString());
    }

    [Theory]
    [InlineData("native")]
    [InlineData("trap-and-emulate")]
    public async Task Cold_APausedDemoKernel_MovesItsMachine_StaysPaused_AndFinishesLikeAnUnmigratedRun(string mode)
    {
        var (reference, referenceStats) = await ReferenceAsync(_client, mode);
        var source = await NewHostAsync(_client, $"cold-paused-src-{mode}");
        var target = await NewHostAsync(_client, $"cold-paused-dst-{mode}", "bare-metal");
        var vm = await NewDemoKernelAsync(_client, $"cold-paused-{mode}", mode, source.Id());
        await _client.RunToAsync(vm, "boot", 400_000);

        var migration = await _client.MigratedAsync(vm, new { targetHostId = target.Id(), mode = "cold" });
        Assert.Equal("completed", migration.GetProperty("phase").GetString());
        var total = migration.GetProperty("totalPagesSent").GetInt64();
        Assert.True(total > 0);
        Assert.Equal(total, migration.GetProperty("stopAndCopy").GetProperty("pagesSent").GetInt64());
        Assert.True(migration.GetProperty("stopAndCopy").GetProperty("stateBytes").GetInt64() > 0);
        Assert.True(migration.GetProperty("downtime").GetProperty("instructions").GetInt64() > 0);

        var moved = await _client.GetVmAsync(vm);
        Assert.Equal(target.Id(), moved.GetProperty("hostId").GetGuid());
        Assert.Equal("paused", moved.GetProperty("state").GetString());
        Assert.Equal("migrated", moved.GetProperty("stateReason").GetString());
        Assert.Equal(400_000, moved.GetProperty("instructionsRetired").GetInt64());

        // The whole run's console, before the move and after it, is the unmigrated run's.
        Assert.Equal(reference, await _client.FinishAsync(vm));
        await AssertSameGuestCountersAsync(_client, referenceStats, vm);
    }

    [Theory]
    [InlineData("native")]
    [InlineData("trap-and-emulate")]
    public async Task Live_ARunningDemoKernel_MovesWhileItRuns_AndPrintsAndCountsWhatAnUnmigratedRunDoes(string mode)
    {
        var (reference, referenceStats) = await ReferenceAsync(_client, mode);
        var source = await NewHostAsync(_client, $"live-src-{mode}");
        var target = await NewHostAsync(_client, $"live-dst-{mode}", "bare-metal");
        var vm = await NewDemoKernelAsync(_client, $"live-{mode}", mode, source.Id());
        var sourceBefore = await _client.UsageAsync(source.Id());
        var targetBefore = await _client.UsageAsync(target.Id());

        // Held until the migration has started: demo-kernel would be over before the request arrived.
        _server.Guests.Hold(vm);
        Assert.Equal("running", (await _client.ActAsync(vm, "boot")).GetProperty("state").GetString());
        var started = await _client.MigratedAsync(vm, new { targetHostId = target.Id(), mode = "live", stopCopyPages = 0, maxRounds = 10 });
        Assert.Equal("pre-copy", started.GetProperty("phase").GetString());
        Assert.Equal(0, started.GetProperty("stopCopyPages").GetInt32());
        Assert.Equal(10, started.GetProperty("maxRounds").GetInt32());
        Assert.Equal(JsonValueKind.Null, started.GetProperty("endedAt").ValueKind);

        // While it migrates: the state says so, and what would change the VM waits for it to end.
        var migrating = await _client.GetVmAsync(vm);
        Assert.Equal("migrating", migrating.GetProperty("state").GetString());
        Assert.Equal(source.Id(), migrating.GetProperty("hostId").GetGuid());
        Assert.Equal((targetBefore.MemoryUsedMiB + 64, targetBefore.Vms + 1), await _client.UsageAsync(target.Id())); // reserved from the start
        var again = await (await _client.MigrateAsync(vm, new { targetHostId = target.Id(), mode = "live" })).ReadProblemAsync(HttpStatusCode.Conflict, "invalid-state");
        Assert.Equal(started.Id(), again.GetProperty("migrationId").GetGuid());
        await (await _client.PostAsJsonAsync($"/api/v1/vms/{vm}/snapshots", new { name = "mid-flight" })).ReadProblemAsync(HttpStatusCode.Conflict, "invalid-state");
        await (await _client.PostAsync($"/api/v1/vms/{vm}/pause", null)).ReadProblemAsync(HttpStatusCode.Conflict, "invalid-state");

        _server.Guests.Release(vm);
        var ended = await _server.Factory.EndedMigrationAsync(_client, started.Id());
        Assert.Equal("completed", ended.GetProperty("phase").GetString());
        var rounds = ended.GetProperty("rounds").EnumerateArray().ToList();
        Assert.NotEmpty(rounds);
        Assert.Equal(Enumerable.Range(0, rounds.Count), rounds.Select(r => r.GetProperty("number").GetInt32()));
        Assert.True(rounds[0].GetProperty("pagesSent").GetInt32() > 0);
        Assert.True(rounds[0].GetProperty("guestInstructions").GetInt64() > 0); // the guest ran during pre-copy
        Assert.Equal(rounds[0].GetProperty("pagesSent").GetInt32() * 100L, rounds[0].GetProperty("linkInstructions").GetInt64());
        var stopAndCopy = ended.GetProperty("stopAndCopy");
        Assert.Equal(
            rounds.Sum(r => r.GetProperty("pagesSent").GetInt64()) + stopAndCopy.GetProperty("pagesSent").GetInt64(),
            ended.GetProperty("totalPagesSent").GetInt64());
        Assert.True(stopAndCopy.GetProperty("stateBytes").GetInt64() > 0);
        var downtime = ended.GetProperty("downtime");
        Assert.True(downtime.GetProperty("instructions").GetInt64() > 0);
        Assert.True(downtime.GetProperty("milliseconds").GetDouble() >= 0);

        // The VM's host is the target, whose charge it now is; the source's is released.
        Assert.Equal(target.Id(), (await _client.GetVmAsync(vm)).GetProperty("hostId").GetGuid());
        Assert.Equal((sourceBefore.MemoryUsedMiB - 64, sourceBefore.Vms - 1), await _client.UsageAsync(source.Id()));
        Assert.Equal((targetBefore.MemoryUsedMiB + 64, targetBefore.Vms + 1), await _client.UsageAsync(target.Id()));

        // It runs on to the end on the target: the same transcript and the same counters as a run that
        // never moved (the counters carried across: instructions retired on the source count on).
        var end = await _client.WaitForStateAsync(vm, "stopped", "crashed");
        Assert.Equal("guest-power-off", end.GetProperty("stateReason").GetString());
        Assert.Equal(reference, await _client.RunConsoleAsync(vm));
        await AssertSameGuestCountersAsync(_client, referenceStats, vm);
    }

    [Fact]
    public async Task Cancel_DuringPreCopy_LeavesTheVmRunningOnTheSource_AndReleasesTheTarget()
    {
        // A link so slow against the guest that pre-copy cannot leave round 0: one page per chunk,
        // and a billion guest instructions while it crosses.
        using var factory = new VirtApiFactory()
            .WithSetting("Migration:InstructionsPerPage", "1000000000")
            .WithSetting("Migration:ChunkPages", "1");
        using var client = factory.CreateClient();
        var source = await NewHostAsync(client, "cancel-src");
        var target = await NewHostAsync(client, "cancel-dst");
        var vm = await NewVmAsync(client, "cancel-spin", await SpinImageAsync(client), source.Id(), memoryMiB: 16);
        await client.ActAsync(vm, "boot");
        var targetBefore = await client.UsageAsync(target.Id());

        var migration = await client.MigratedAsync(vm, new { targetHostId = target.Id(), mode = "live" });
        Assert.Equal("pre-copy", migration.GetProperty("phase").GetString());
        Assert.Equal(30, migration.GetProperty("maxRounds").GetInt32()); // Migration:DefaultMaxRounds
        Assert.Equal(50, migration.GetProperty("stopCopyPages").GetInt32()); // Migration:DefaultStopCopyPages
        Assert.Equal("migrating", (await client.GetVmAsync(vm)).GetProperty("state").GetString());
        Assert.Equal((targetBefore.MemoryUsedMiB + 16, targetBefore.Vms + 1), await client.UsageAsync(target.Id()));

        var response = await client.DeleteAsync($"/api/v1/migrations/{migration.Id()}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var cancelled = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("cancelled", cancelled.GetProperty("phase").GetString());
        Assert.NotNull(cancelled.GetProperty("endedAt").GetString());
        Assert.Equal(JsonValueKind.Null, cancelled.GetProperty("stopAndCopy").ValueKind);
        Assert.Equal(JsonValueKind.Null, cancelled.GetProperty("downtime").ValueKind);

        var after = await client.GetVmAsync(vm);
        Assert.Equal("running", after.GetProperty("state").GetString());
        Assert.Equal(source.Id(), after.GetProperty("hostId").GetGuid());
        Assert.Equal(targetBefore, await client.UsageAsync(target.Id()));
        var twice = await (await client.DeleteAsync($"/api/v1/migrations/{migration.Id()}")).ReadProblemAsync(HttpStatusCode.Conflict, "migration-not-cancellable");
        Assert.Equal("cancelled", twice.GetProperty("phase").GetString());

        // It can be migrated again, and deleted once it is not migrating.
        Assert.True((await client.CheckAsync(vm, target.Id())).GetProperty("allowed").GetBoolean());
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/vms/{vm}")).StatusCode);
    }

    [Fact]
    public async Task DeletingAVmWhileItMigrates_CancelsTheMigration_AndReleasesBothHosts()
    {
        using var factory = new VirtApiFactory()
            .WithSetting("Migration:InstructionsPerPage", "1000000000")
            .WithSetting("Migration:ChunkPages", "1");
        using var client = factory.CreateClient();
        var source = await NewHostAsync(client, "delete-src");
        var target = await NewHostAsync(client, "delete-dst");
        var sourceBefore = await client.UsageAsync(source.Id());
        var targetBefore = await client.UsageAsync(target.Id());
        var vm = await NewVmAsync(client, "delete-spin", await SpinImageAsync(client), source.Id(), memoryMiB: 16);
        await client.ActAsync(vm, "boot");
        var migration = await client.MigratedAsync(vm, new { targetHostId = target.Id(), mode = "live" });
        Assert.Equal("migrating", (await client.GetVmAsync(vm)).GetProperty("state").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/vms/{vm}")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/vms/{vm}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/migrations/{migration.Id()}")).StatusCode);
        Assert.Equal(sourceBefore, await client.UsageAsync(source.Id()));
        Assert.Equal(targetBefore, await client.UsageAsync(target.Id()));
    }

    [Fact]
    public async Task ChangingAVmWhileItsColdMigrationStarts_Is409_AndTheChargeMovesWhole()
    {
        using var factory = MigrationStartGate.Install(new VirtApiFactory(), out var gate);
        using var client = factory.CreateClient();
        var source = await NewHostAsync(client, "starting-src");
        var target = await NewHostAsync(client, "starting-dst");
        var vm = await NewVmAsync(client, "starting-vm", await client.ImageIdAsync("hello"), source.Id(), memoryMiB: 16);
        var console = await client.AttachedAsync(vm, new { kind = "console", model = "emulated" });
        var sourceBefore = await client.UsageAsync(source.Id());
        var targetBefore = await client.UsageAsync(target.Id());

        // The row and the target's reservation are in; the worker has not been asked yet.
        gate.Close();
        var posted = client.MigrateAsync(vm, new { targetHostId = target.Id(), mode = "cold" });
        await gate.Reached.WaitAsync(TimeSpan.FromMinutes(2));
        var patched = await (await client.PatchAsJsonAsync($"/api/v1/vms/{vm}", new { memoryMiB = 32 })).ReadProblemAsync(HttpStatusCode.Conflict, "invalid-state");
        Assert.NotEqual(JsonValueKind.Undefined, patched.GetProperty("migrationId").ValueKind);
        await (await client.AttachAsync(vm, new { kind = "block", model = "passthrough", hostDeviceId = source.HostDevice("disk0") })).ReadProblemAsync(HttpStatusCode.Conflict, "invalid-state");
        await (await client.DeleteAsync($"/api/v1/vms/{vm}/devices/{console.Id()}")).ReadProblemAsync(HttpStatusCode.Conflict, "invalid-state");
        gate.Open();

        var response = await posted;
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var moved = await client.GetVmAsync(vm);
        Assert.Equal(target.Id(), moved.GetProperty("hostId").GetGuid());
        Assert.Equal(16, moved.GetProperty("memoryMiB").GetInt32());
        var devices = (await client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/devices")).GetProperty("items");
        Assert.Equal([console.Id()], devices.EnumerateArray().Select(d => d.Id()).ToArray());
        Assert.Equal((sourceBefore.MemoryUsedMiB - 16, sourceBefore.Vms - 1), await client.UsageAsync(source.Id()));
        Assert.Equal((targetBefore.MemoryUsedMiB + 16, targetBefore.Vms + 1), await client.UsageAsync(target.Id()));
    }

    [Fact]
    public async Task DeletingAVmWhileItsMigrationStarts_Answers404_AndReleasesBothHosts()
    {
        using var factory = MigrationStartGate.Install(new VirtApiFactory(), out var gate);
        using var client = factory.CreateClient();
        var source = await NewHostAsync(client, "gone-src");
        var target = await NewHostAsync(client, "gone-dst");
        var sourceBefore = await client.UsageAsync(source.Id());
        var targetBefore = await client.UsageAsync(target.Id());
        var vm = await NewVmAsync(client, "gone-vm", await client.ImageIdAsync("hello"), source.Id(), memoryMiB: 16);

        gate.Close();
        var posted = client.MigrateAsync(vm, new { targetHostId = target.Id(), mode = "cold" });
        await gate.Reached.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/vms/{vm}")).StatusCode);
        gate.Open();

        await (await posted).ReadProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal(sourceBefore, await client.UsageAsync(source.Id()));
        Assert.Equal(targetBefore, await client.UsageAsync(target.Id()));
    }

    [Fact]
    public async Task Failure_OnATargetShortOfMemory_LeavesTheVmRunningOnTheSource_ItsRunUnchanged_AndTheTargetReleased()
    {
        // Every target has 2 machine frames for the guest, fewer than the 3 pages demo-kernel's image
        // fills at boot: the ledger says there is room, the host's memory says otherwise. The guest is
        // held, so round 0 has only the image to send and fails on its third page, before the guest ran.
        using var factory = new VirtApiFactory().WithServices(services => services.WrapHypervisor(real => new HeldGuests(new ShortOfMemoryTargets(real, 2))));
        using var client = factory.CreateClient();
        var guests = factory.Services.GetRequiredService<HeldGuests>();
        var (reference, referenceStats) = await ReferenceAsync(client, "native");
        var source = await NewHostAsync(client, "short-src");
        var target = await NewHostAsync(client, "short-dst");
        var vm = await NewDemoKernelAsync(client, "short-vm", "native", source.Id());
        var sourceBefore = await client.UsageAsync(source.Id());
        var targetBefore = await client.UsageAsync(target.Id());

        guests.Hold(vm);
        await client.ActAsync(vm, "boot");
        var migration = await client.MigratedAsync(vm, new { targetHostId = target.Id(), mode = "live" });
        var failed = await factory.EndedMigrationAsync(client, migration.Id());
        Assert.Equal("failed", failed.GetProperty("phase").GetString());
        Assert.StartsWith("the target host ran out of machine memory for the guest after 2 frames", failed.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, failed.GetProperty("rounds").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("stopAndCopy").ValueKind);
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("downtime").ValueKind);

        // Back to running on the source, as it was; the target's reservation is released.
        var after = await client.GetVmAsync(vm);
        Assert.Equal("running", after.GetProperty("state").GetString());
        Assert.Equal(source.Id(), after.GetProperty("hostId").GetGuid());
        Assert.Equal(sourceBefore, await client.UsageAsync(source.Id()));
        Assert.Equal(targetBefore, await client.UsageAsync(target.Id()));

        guests.Release(vm);
        Assert.Equal("guest-power-off", (await client.WaitForStateAsync(vm, "stopped", "crashed")).GetProperty("stateReason").GetString());
        Assert.Equal(reference, await client.RunConsoleAsync(vm));
        await AssertSameGuestCountersAsync(client, referenceStats, vm);
    }

    [Fact]
    public async Task AfterARestart_AMigrationLeftInPreCopy_HasFailedWithHostRestart_AndItsTargetIsReleased()
    {
        var databasePath = VirtApiFactory.NewDatabasePath();
        try
        {
            Guid vm, source, target, migration;
            using (var first = VirtApiFactory.OnDatabase(databasePath)
                .WithSetting("Migration:InstructionsPerPage", "1000000000")
                .WithSetting("Migration:ChunkPages", "1"))
            {
                var client = first.CreateClient();
                source = (await NewHostAsync(client, "restart-src")).Id();
                target = (await NewHostAsync(client, "restart-dst")).Id();
                vm = await NewVmAsync(client, "restart-spin", await SpinImageAsync(client), source, memoryMiB: 16);
                await client.ActAsync(vm, "boot");
                migration = (await client.MigratedAsync(vm, new { targetHostId = target, mode = "live" })).Id();
                Assert.Equal("migrating", (await client.WaitForStateAsync(vm, "migrating")).GetProperty("state").GetString());
                Assert.Equal((16, 1), await client.UsageAsync(target));
            }

            using var second = VirtApiFactory.OnDatabase(databasePath);
            var again = second.CreateClient();
            var failed = await again.GetMigrationAsync(migration);
            Assert.Equal("failed", failed.GetProperty("phase").GetString());
            Assert.Equal("host-restart", failed.GetProperty("error").GetString());
            Assert.NotNull(failed.GetProperty("endedAt").GetString());
            var stopped = await again.GetVmAsync(vm);
            Assert.Equal("stopped", stopped.GetProperty("state").GetString());
            Assert.Equal("host-restart", stopped.GetProperty("stateReason").GetString());
            Assert.Equal(source, stopped.GetProperty("hostId").GetGuid());
            Assert.Equal((0, 0), await again.UsageAsync(target));
            Assert.Equal((16, 1), await again.UsageAsync(source));

            // Stopped, it moves cold.
            Assert.Equal("completed", (await again.MigratedAsync(vm, new { targetHostId = target, mode = "cold" })).GetProperty("phase").GetString());
            Assert.Equal((16, 1), await again.UsageAsync(target));
            Assert.Equal((0, 0), await again.UsageAsync(source));
        }
        finally
        {
            VirtApiFactory.DeleteDatabase(databasePath);
        }
    }

    private static async Task<JsonElement> NewHostAsync(HttpClient client, string name, string hypervisorType = "hosted", int memoryMiB = 1024)
    {
        var response = await client.PostAsJsonAsync("/api/v1/hosts", new
        {
            name,
            physicalCpus = 2,
            memoryMiB,
            hypervisorType,
            devices = new object[] { new { kind = "block", name = "disk0", sizeMiB = 32 }, new { kind = "console", name = "tty0" } },
        });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<Guid> NewVmAsync(HttpClient client, string name, Guid imageId, Guid? hostId = null, int memoryMiB = 16) =>
        (await client.CreateVmAsync(new { name, imageId, memoryMiB, hostId })).Id();

    private static async Task<Guid> NewDemoKernelAsync(HttpClient client, string name, string mode, Guid hostId) =>
        (await client.CreateVmAsync(new { name, imageId = await client.ImageIdAsync("demo-kernel"), hostId, cpu = new { mode } })).Id();

    /// <summary>A guest that runs until it is stopped.</summary>
    private static async Task<Guid> SpinImageAsync(HttpClient client)
    {
        var images = await client.GetFromJsonAsync<JsonElement>("/api/v1/images");
        var spin = images.EnumerateArray().FirstOrDefault(i => i.GetProperty("name").GetString() == "spin");
        return spin.ValueKind == JsonValueKind.Undefined ? await client.CreateAsmImageAsync("spin", GuestSources.Spin) : spin.Id();
    }

    /// <summary>demo-kernel run to its end on the server's default host, never migrated: its transcript and counters.</summary>
    private static async Task<(string Console, JsonElement Stats)> ReferenceAsync(HttpClient client, string mode)
    {
        var name = $"reference-{mode}";
        var existing = (await client.GetFromJsonAsync<JsonElement>("/api/v1/vms?limit=500")).GetProperty("items").EnumerateArray()
            .FirstOrDefault(v => v.GetProperty("name").GetString() == name);
        Guid vm;
        if (existing.ValueKind == JsonValueKind.Undefined)
        {
            vm = (await client.CreateVmAsync(new { name, imageId = await client.ImageIdAsync("demo-kernel"), cpu = new { mode } })).Id();
            await client.ActAsync(vm, "boot");
        }
        else
        {
            vm = existing.Id();
        }
        var end = await client.WaitForStateAsync(vm, "stopped", "crashed");
        Assert.Equal("guest-power-off", end.GetProperty("stateReason").GetString());
        return (await client.RunConsoleAsync(vm), await client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/stats"));
    }

    private static async Task AssertSameGuestCountersAsync(HttpClient client, JsonElement reference, Guid vm)
    {
        var stats = await client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/stats");
        foreach (var counter in new[] { "instructionsRetired", "instructionsByPrivilege", "trapsByCause", "interruptsByCause" })
        {
            Assert.Equal(reference.GetProperty(counter).GetRawText(), stats.GetProperty(counter).GetRawText());
        }
    }
}
