#!/usr/bin/env python3
"""Writes an install-base CSV as the barcode / sales system exports it, for the
import benchmark (`shouhou import --kind install_base FILE`).

Usage: scripts/gen_import_csv.py ROWS OUT.csv [--customers N] [--bad-every K] [--seed S] [--first N]

Models, units and engineers are the fixed demo data's (shouhou demo). Every
serial is unique; customers repeat (N distinct phone + name pairs), so the
import both creates owners and finds them again. --bad-every K makes every
K-th row bad (unknown model), to exercise the error path.
"""
import argparse
import random

MODELS = [("KFR-35GW/BP3", "2023-03-01"), ("KFR-72LW/BP2", "2023-05-01"), ("SWH-Q18", "2023-02-01"),
          ("UPS-C10K", "2023-01-15")]
UNITS = [("SP-SH-XH", "DL-SH-01", "engineer1", "310104", "上海市徐汇区漕溪北路"),
         ("SP-JN-LX", "DL-JN-01", "engineer2", "370102", "济南市历下区泉城路"),
         ("SP-BJ-CY", "", "engineer3", "110105", "北京市朝阳区建国路")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", type=int)
    ap.add_argument("out")
    ap.add_argument("--customers", type=int, default=0, help="distinct customers (default rows/3)")
    ap.add_argument("--bad-every", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--first", type=int, default=0, help="number of the first serial (a second file of new serials)")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    ncust = a.customers or max(1, a.rows // 3)
    with open(a.out, "w", encoding="utf-8", newline="") as f:
        f.write("\ufeffserial,model_code,batch,production_date,org_unit,dealer,sale_date,invoice_no,sale_amount,"
                "customer_name,customer_phone,install_date,installer,engineer,install_address,division_code\r\n")
        for i in range(a.rows):
            model, prod = MODELS[i % len(MODELS)]
            unit, dealer, eng, div, street = UNITS[(i // 7) % len(UNITS)]
            c = rnd.randrange(ncust)
            name = SURNAMES[c % len(SURNAMES)] + GIVEN[(c // 20) % len(GIVEN)] + GIVEN[(c // 500) % len(GIVEN)]
            phone = "13%09d" % (c * 7919 % 1000000000)
            day = 1 + i % 28
            month = 1 + (i // 28) % 12
            sale = "2024-%02d-%02d" % (month, day)
            install = "2024-%02d-%02d" % (month, min(28, day + 1))
            if a.bad_every and i % a.bad_every == a.bad_every - 1:
                model = "NO-SUCH-MODEL"
            amount = "%d.%02d" % (1999 + (i % 5) * 1000, (i * 37) % 100)
            f.write(f"SN{a.first + i:09d},{model},B{month:02d},{prod},{unit},{dealer},{sale},INV{i:09d},{amount},"
                    f"{name},{phone},{install},{unit},{eng},\"{street}{1 + i % 300}号\",{div}\r\n")


if __name__ == "__main__":
    main()
