using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VirtApi.Migrations
{
    /// <inheritdoc />
    public partial class VmMigrations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Migrations",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    VmId = table.Column<Guid>(type: "TEXT", nullable: false),
                    SourceHostId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TargetHostId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Mode = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Phase = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    MaxRounds = table.Column<int>(type: "INTEGER", nullable: false),
                    StopCopyPages = table.Column<int>(type: "INTEGER", nullable: false),
                    MemoryMiB = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    EndedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Error = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    TotalPagesSent = table.Column<long>(type: "INTEGER", nullable: false),
                    StopAndCopyPagesSent = table.Column<int>(type: "INTEGER", nullable: true),
                    StateBytes = table.Column<long>(type: "INTEGER", nullable: true),
                    DowntimeInstructions = table.Column<long>(type: "INTEGER", nullable: true),
                    DowntimeMilliseconds = table.Column<double>(type: "REAL", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Migrations", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Migrations_Vms_VmId",
                        column: x => x.VmId,
                        principalTable: "Vms",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "MigrationRounds",
                columns: table => new
                {
                    MigrationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Number = table.Column<int>(type: "INTEGER", nullable: false),
                    PagesSent = table.Column<int>(type: "INTEGER", nullable: false),
                    PagesDirtied = table.Column<int>(type: "INTEGER", nullable: false),
                    GuestInstructions = table.Column<long>(type: "INTEGER", nullable: false),
                    LinkInstructions = table.Column<long>(type: "INTEGER", nullable: false),
                    HostMilliseconds = table.Column<double>(type: "REAL", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MigrationRounds", x => new { x.MigrationId, x.Number });
                    table.ForeignKey(
                        name: "FK_MigrationRounds_Migrations_MigrationId",
                        column: x => x.MigrationId,
                        principalTable: "Migrations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Migrations_Phase",
                table: "Migrations",
                column: "Phase");

            migrationBuilder.CreateIndex(
                name: "IX_Migrations_VmId",
                table: "Migrations",
                column: "VmId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "MigrationRounds");

            migrationBuilder.DropTable(
                name: "Migrations");
        }
    }
}
