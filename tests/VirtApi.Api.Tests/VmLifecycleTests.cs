using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace VirtApi.Api.Tests;

public sealed class VmLifecycleTests : IDisposable
{
    private readonly VirtApiFactory _factory = new();
    private readonly HttpClient _client;

    public VmLifecycleTests() => _client = _factory.CreateClient();

    public void Dispose() => _factory.Dispose();

    private async Task<Guid> NewVmAsync(string name, Guid image, long? instructionBudget = null) =>
        (await _client.CreateVmAsync(new { name, imageId = image, instructionBudget })).GetProperty("id").GetGuid();

    [Fact]
    public async Task Hello_Boots_PrintsItsGreeting_AndStopsWithExitCode0()
    {
        var vm = await NewVmAsync("hello-1", await _client.ImageIdAsync("hello"));
        var booted = await _client.ActAsync(vm, "boot");
        Assert.Contains(booted.GetProperty("state").GetString(), new[] { "running", "stopped" });

        var stopped = await _client.WaitForStateAsync(vm, "stopped", "crashed");
        Assert.Equal("stopped", stopped.GetProperty("state").GetString());
        Assert.Equal("guest-power-off", stopped.GetProperty("stateReason").GetString());
        Assert.Equal(0, stopped.GetProperty("exitCode").GetInt32());
        Assert.Contains("Hello", await _client.RunConsoleAsync(vm), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task GuestExitCode_IsReported()
    {
        var vm = await NewVmAsync("exit-7", await _client.CreateAsmImageAsync("exit-seven", GuestSources.ExitWith(7)));
        await _client.ActAsync(vm, "boot");
        var stopped = await _client.WaitForStateAsync(vm, "stopped", "crashed");
        Assert.Equal(7, stopped.GetProperty("exitCode").GetInt32());
        Assert.Equal("bye", await _client.RunConsoleAsync(vm));
    }

    [Fact]
    public async Task EveryTransition_FollowsTheStateMachine_AndRefusedOnesAre409WithStateAndAllowedActions()
    {
        var vm = await NewVmAsync("spinner", await _client.CreateAsmImageAsync("spin", GuestSources.Spin));

        async Task Refused(string action, string state, string[] allowed)
        {
            var response = await _client.PostAsync($"/api/v1/vms/{vm}/{action}", null);
            var problem = await response.ReadProblemAsync(HttpStatusCode.Conflict, "invalid-state");
            Assert.Equal(state, problem.GetProperty("state").GetString());
            Assert.Equal(allowed, problem.GetProperty("allowedActions").EnumerateArray().Select(a => a.GetString()!).ToArray());
        }

        await Refused("pause", "created", ["boot"]);
        await Refused("resume", "created", ["boot"]);
        Assert.Equal("running", (await _client.ActAsync(vm, "boot")).GetProperty("state").GetString());
        await Refused("boot", "running", ["pause", "stop", "reboot"]);
        Assert.Equal("paused", (await _client.ActAsync(vm, "pause")).GetProperty("state").GetString());
        await Refused("pause", "paused", ["resume", "stop", "reboot"]);
        var paused = await _client.GetVmAsync(vm);
        var retiredWhilePaused = paused.GetProperty("instructionsRetired").GetInt64();
        Assert.Equal(retiredWhilePaused, (await _client.GetVmAsync(vm)).GetProperty("instructionsRetired").GetInt64());
        Assert.Equal("running", (await _client.ActAsync(vm, "resume")).GetProperty("state").GetString());
        Assert.Equal("running", (await _client.ActAsync(vm, "reboot")).GetProperty("state").GetString());
        var stopped = await _client.ActAsync(vm, "stop");
        Assert.Equal("stopped", stopped.GetProperty("state").GetString());
        Assert.Equal("stop-requested", stopped.GetProperty("stateReason").GetString());
        await Refused("stop", "stopped", ["boot"]);
        await Refused("resume", "stopped", ["boot"]);
        Assert.Equal("running", (await _client.ActAsync(vm, "boot")).GetProperty("state").GetString());
        var patch = await _client.PatchAsJsonAsync($"/api/v1/vms/{vm}", new { vcpus = 2 });
        await patch.ReadProblemAsync(HttpStatusCode.Conflict, "invalid-state");
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/vms/{vm}")).StatusCode);
    }

    [Fact]
    public async Task InstructionBudget_StopsTheVm_WithReasonAndExactCount()
    {
        var vm = await NewVmAsync("budgeted", await _client.CreateAsmImageAsync("spin", GuestSources.Spin), instructionBudget: 1_234_567);
        await _client.ActAsync(vm, "boot");
        var stopped = await _client.WaitForStateAsync(vm, "stopped", "crashed");
        Assert.Equal("instruction-budget", stopped.GetProperty("stateReason").GetString());
        Assert.Equal(1_234_567, stopped.GetProperty("instructionsRetired").GetInt64());
        var stats = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/stats");
        Assert.Equal(1_234_567UL, stats.GetProperty("instructionsRetired").GetUInt64());
    }

    [Fact]
    public async Task GuestThatCannotGoOn_IsCrashedWithTheReason_AndTheServerServesOn()
    {
        var vm = await NewVmAsync("lost", await _client.CreateAsmImageAsync("nowhere", GuestSources.JumpToNowhere));
        await _client.ActAsync(vm, "boot");
        var crashed = await _client.WaitForStateAsync(vm, "stopped", "crashed");
        Assert.Equal("crashed", crashed.GetProperty("state").GetString());
        Assert.Contains("fault", crashed.GetProperty("stateReason").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(["boot"], crashed.GetProperty("allowedActions").EnumerateArray().Select(a => a.GetString()!).ToArray());
    }

    [Fact]
    public async Task ConsoleInput_ReachesAGuestThatEchoesIt()
    {
        var vm = await NewVmAsync("echo", await _client.CreateAsmImageAsync("echo", GuestSources.Echo));
        var refused = await _client.PostAsJsonAsync($"/api/v1/vms/{vm}/console", new { input = "x" });
        await refused.ReadProblemAsync(HttpStatusCode.Conflict, "invalid-state");

        await _client.ActAsync(vm, "boot");
        var sent = await _client.PostAsJsonAsync($"/api/v1/vms/{vm}/console", new { input = "hi there." });
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        Assert.Equal(9, (await sent.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());

        var stopped = await _client.WaitForStateAsync(vm, "stopped", "crashed");
        Assert.Equal(0, stopped.GetProperty("exitCode").GetInt32());
        Assert.Equal("hi there.", await _client.RunConsoleAsync(vm));
        var raw = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/console?since=3&encoding=base64");
        Assert.Equal("there."u8.ToArray(), Convert.FromBase64String(raw.GetProperty("output").GetString()!));
        Assert.Equal(9, raw.GetProperty("next").GetInt64());
    }

    [Fact]
    public async Task Events_ArriveInOrder_StateThenConsoleThenTheFinalState()
    {
        var vm = await NewVmAsync("watched", await _client.CreateAsmImageAsync("echo", GuestSources.Echo));
        await using var events = await VmEventStream.OpenAsync(_client, vm);

        var first = await events.NextAsync();
        Assert.Equal(("state", "created"), (first.Type, first.Data.GetProperty("state").GetString()));
        await _client.ActAsync(vm, "boot");
        var running = await events.NextAsync();
        Assert.Equal(("state", "running"), (running.Type, running.Data.GetProperty("state").GetString()));
        await _client.PostAsJsonAsync($"/api/v1/vms/{vm}/console", new { input = "ok." });
        var output = "";
        (string Type, JsonElement Data) next;
        while ((next = await events.NextAsync()).Type == "console")
        {
            output += next.Data.GetProperty("output").GetString();
        }
        Assert.Equal("ok.", output);
        Assert.Equal(("state", "stopped"), (next.Type, next.Data.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task Stats_AreNonZero_AndConsistentWithTheConsole()
    {
        var vm = await NewVmAsync("hello-stats", await _client.ImageIdAsync("hello"));
        await _client.ActAsync(vm, "boot");
        var stopped = await _client.WaitForStateAsync(vm, "stopped", "crashed");
        var stats = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/stats");
        var retired = stats.GetProperty("instructionsRetired").GetUInt64();
        Assert.True(retired > 0);
        Assert.Equal(stopped.GetProperty("instructionsRetired").GetUInt64(), retired);
        var byPrivilege = stats.GetProperty("instructionsByPrivilege").EnumerateObject().Select(p => p.Value.GetUInt64()).Aggregate(0UL, (a, b) => a + b);
        Assert.Equal(retired, byPrivilege);
        Assert.Equal((await _client.RunConsoleAsync(vm)).Length, stats.GetProperty("consoleBytes").GetInt64());
        Assert.True(stats.GetProperty("framesTouched").GetUInt64() >= 0);
        Assert.True(stats.GetProperty("hostSecondsRunning").GetDouble() > 0);
    }

    [Fact]
    public async Task SameVmBootedTwice_GivesIdenticalConsoleAndCounters()
    {
        var vm = await NewVmAsync("twice", await _client.ImageIdAsync("hello"));
        await _client.ActAsync(vm, "boot");
        await _client.WaitForStateAsync(vm, "stopped");
        var firstConsole = await _client.RunConsoleAsync(vm);
        var firstStats = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/stats");

        await _client.ActAsync(vm, "boot");
        await _client.WaitForStateAsync(vm, "stopped");
        var secondStats = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/stats");

        Assert.Equal(firstConsole, await _client.RunConsoleAsync(vm));
        foreach (var counter in new[] { "instructionsRetired", "instructionsByPrivilege", "trapsByCause", "interruptsByCause", "tlbHits", "tlbMisses", "pageWalks", "framesTouched" })
        {
            Assert.Equal(firstStats.GetProperty(counter).GetRawText(), secondStats.GetProperty(counter).GetRawText());
        }
    }

    [Fact]
    public async Task FiftyVmsBootedAtOnce_AllFinish()
    {
        var hello = await _client.ImageIdAsync("hello");
        var vms = new List<Guid>();
        for (var i = 0; i < 50; i++)
        {
            vms.Add(await NewVmAsync($"many-{i}", hello));
        }
        await Task.WhenAll(vms.Select(vm => _client.ActAsync(vm, "boot")));
        var results = await Task.WhenAll(vms.Select(vm => _client.WaitForStateAsync(vm, "stopped", "crashed")));
        Assert.All(results, r => Assert.Equal(0, r.GetProperty("exitCode").GetInt32()));
        var consoles = await Task.WhenAll(vms.Select(vm => _client.RunConsoleAsync(vm)));
        Assert.Single(consoles.Distinct());
    }
}
